"""The remote sources' spool files are deleted once read to their end and a day old, with their
cursors; a file not read yet, or read less than a day ago, stays."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from collectors import config, pipeline
from collectors.remote import sources, spool


def test_spool_files_read_to_their_end_go_after_a_day(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text('[[sources]]\ndsn_env = "RL_UNSET_DSN"\n')
    cfg = config.load(home)
    where = spool.folder(cfg, cfg.sources[0].label)
    line = b'{"request_id": "r1", "not": "a spend log row"}\n'
    old = spool.write(where, "20261201T000000Z-000001.jsonl", line * 2)
    young = spool.write(where, "20261206T000000Z-000001.jsonl", line)
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    pipeline.ingest(cfg)  # reads both (their rows quarantined); the source's own read fails
    late = spool.write(where, "20261207T000000Z-000001.jsonl", line)  # not read yet
    os.utime(late, (day_ago, day_ago))

    assert sources.prune(cfg) == 1
    assert not old.exists() and young.exists() and late.exists()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        files = {Path(f).name for (f,) in con.execute("SELECT file FROM file_cursors").fetchall()}
    assert files == {young.name}  # the deleted file's cursor went with it; late has none yet
    # a day later the young one goes too; the one never read stays until it is
    assert sources.prune(cfg, now=time.time() + 2 * 86400) == 1
    assert not young.exists() and late.exists()
