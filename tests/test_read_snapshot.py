"""Readers never wait for a writer: the read snapshot (collectors/warehouse/snapshot.py).

The writer is a real process holding DuckDB's write lock on the warehouse file, in the middle of
a transaction that has emptied the marts, as a full rebuild does; readers in this process must
open the snapshot at once and see the marts as the warehouse showed them before.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from collectors import config, pipeline
from collectors.errors import WarehouseBusy
from collectors.warehouse import Warehouse, snapshot
from tests.faults.helpers import ROOT, attempt_line, run_cli

# a writer that empties the marts inside a transaction and keeps it open (a rebuild under way)
REBUILDER = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('BEGIN')\n"
    "con.execute('DELETE FROM attempts'); con.execute('DELETE FROM logical_requests')\n"
    "con.execute('DELETE FROM spend_per_day')\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "con.execute('ROLLBACK'); con.close()\n"
)


def _home(tmp_path: Path, extra: str = "") -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        "[prices]\nauto_catalog = false\n\n[warehouse]\nlock_timeout_seconds = 30\n" + extra,
        encoding="utf-8",
    )
    return home


def _log(tmp_path: Path, prefix: str, n: int) -> Path:
    path = tmp_path / f"{prefix}.jsonl"
    at = datetime.now(UTC) - timedelta(hours=2)
    path.write_bytes(b"".join(attempt_line(prefix, i, at) for i in range(n)))
    return path


@contextmanager
def rebuilding(home: Path, seconds: float = 60) -> Iterator[None]:
    p = subprocess.Popen(
        [sys.executable, "-c", REBUILDER, str(home / "warehouse.duckdb"), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "held"
        yield
    finally:
        p.kill()
        p.wait()


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    row = con.execute(
        "SELECT (SELECT count(*) FROM attempts), (SELECT count(*) FROM logical_requests), "
        "(SELECT sum(attempts) FROM spend_per_day)"
    ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2] or 0)


def test_a_refresh_publishes_the_snapshot_readers_open_while_a_writer_holds_the_file(
    tmp_path: Path,
) -> None:
    home = _home(tmp_path)
    cfg = config.load(home)
    pipeline.ingest(cfg, [_log(tmp_path, "a", 50)])
    wh = Warehouse.from_config(cfg)
    assert wh.snapshot_path == home / "warehouse.duckdb.snapshot"
    assert wh.snapshot_path.exists()
    with wh.connect(read_only=True) as con:
        before = _counts(con)
    assert before[0] == 50

    with rebuilding(home):
        t0 = time.monotonic()
        with wh.connect(read_only=True) as con:
            during = _counts(con)
            stamped = con.execute("SELECT published_at FROM read_snapshot").fetchall()
        waited = time.monotonic() - t0
        assert during == before  # the marts as the warehouse showed them, not the emptied ones
        assert len(stamped) == 1 and stamped[0][0] is not None
        assert waited < 5  # no wait for the writer (its lock timeout is 30 s)
        # a reader that must see the file itself still waits, and says so after its timeout
        with pytest.raises(WarehouseBusy):
            with Warehouse(wh.path, lock_timeout=0.5).connect(read_only=True, fresh=True):
                pass
    with wh.connect(read_only=True) as con:  # the file itself again: no snapshot stamp in it
        assert _counts(con) == before
        assert con.execute("SELECT published_at FROM read_snapshot").fetchall() == [(None,)]


def test_readers_see_the_old_marts_or_the_new_ones_while_an_ingest_runs(tmp_path: Path) -> None:
    """A real `routeledger ingest` in another process (several batches, then the refresh) while
    this process reads over and over: every read sees exactly the old figures or the new."""
    home = _home(tmp_path, "\n[ingest]\nbatch_bytes = 4096\n")
    assert run_cli(home, "ingest", str(_log(tmp_path, "a", 200)), "--json").returncode == 0
    second = _log(tmp_path, "b", 300)
    wh = Warehouse(home / "warehouse.duckdb", lock_timeout=30)
    with wh.connect(read_only=True) as con:
        old = _counts(con)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--home", str(home), "ingest", str(second), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[tuple[int, int, int]] = []
    slowest = 0.0
    while proc.poll() is None:
        t0 = time.monotonic()
        with wh.connect(read_only=True) as con:
            seen.append(_counts(con))
        slowest = max(slowest, time.monotonic() - t0)
    assert proc.returncode == 0, proc.stderr
    with wh.connect(read_only=True) as con:
        new = _counts(con)
    assert new[0] == old[0] + 300
    assert set(seen) <= {old, new}, sorted(set(seen) - {old, new})
    assert len(seen) > 1
    assert slowest < 5, slowest


def test_a_snapshot_of_another_schema_is_never_read(tmp_path: Path) -> None:
    home = _home(tmp_path)
    cfg = config.load(home)
    pipeline.ingest(cfg, [_log(tmp_path, "a", 10)])
    wh = Warehouse.from_config(cfg)
    con = duckdb.connect(str(wh.snapshot_path))
    con.execute(
        "INSERT INTO schema_version VALUES ('an-older-sql', now()::TIMESTAMP + INTERVAL 1 DAY)"
    )
    con.close()
    with rebuilding(home):
        with pytest.raises(WarehouseBusy):
            with Warehouse(wh.path, lock_timeout=0.5).connect(read_only=True):
                pass


def test_turned_off_the_snapshot_is_removed_and_readers_wait(tmp_path: Path) -> None:
    home = _home(tmp_path)
    pipeline.ingest(config.load(home), [_log(tmp_path, "a", 10)])
    assert (home / "warehouse.duckdb.snapshot").exists()
    text = (home / "routeledger.toml").read_text(encoding="utf-8")
    text = text.replace("[warehouse]\n", "[warehouse]\nread_snapshot = false\n")
    (home / "routeledger.toml").write_text(text, encoding="utf-8")
    cfg = config.load(home)
    pipeline.update_marts(cfg)  # nothing new to derive: the refresh still drops the snapshot
    assert not (home / "warehouse.duckdb.snapshot").exists()
    with rebuilding(home):
        with pytest.raises(WarehouseBusy):
            with Warehouse(home / "warehouse.duckdb", lock_timeout=0.5).connect(read_only=True):
                pass


def test_a_snapshot_that_cannot_be_written_is_removed_not_left_stale(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = _home(tmp_path)
    cfg = config.load(home)
    pipeline.ingest(cfg, [_log(tmp_path, "a", 10)])
    snap = home / "warehouse.duckdb.snapshot"
    assert snap.exists()
    (home / "warehouse.duckdb.snapshot.tmp").mkdir()  # the copy cannot be written
    result = pipeline.ingest(cfg, [_log(tmp_path, "b", 10)])
    assert result  # the ingest and its refresh committed all the same
    assert not snap.exists()  # no reader is shown the marts before this refresh
    assert "read snapshot" in caplog.text
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        assert _counts(con)[0] == 20
    (home / "warehouse.duckdb.snapshot.tmp").rmdir()
    pipeline.ingest(cfg, [_log(tmp_path, "c", 10)])
    assert snap.exists()
    with duckdb.connect(str(snap), read_only=True) as con:
        assert snapshot.usable(con) and _counts(con)[0] == 30


def test_stats_from_the_cli_during_a_rebuild_give_the_figures_before_it(tmp_path: Path) -> None:
    home = _home(tmp_path)
    assert run_cli(home, "ingest", str(_log(tmp_path, "a", 40)), "--json").returncode == 0
    before = run_cli(home, "stats", "--json")
    assert before.returncode == 0, before.stderr
    with rebuilding(home):
        t0 = time.monotonic()
        during = run_cli(home, "stats", "--json")
        took = time.monotonic() - t0
    assert during.returncode == 0, during.stderr
    assert json.loads(during.stdout) == json.loads(before.stdout)
    assert took < 25  # the CLI's lock timeout is 30 s: it did not wait for the writer


def _niceness_of_threads() -> dict[int, int]:
    out = {}
    for task in Path("/proc/self/task").iterdir():
        stat = (task / "stat").read_text()
        out[int(task.name)] = int(stat.rsplit(")", 1)[1].split()[16])  # field 19: nice
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux per-thread niceness")
def test_a_rebuild_runs_below_the_readers_and_its_duckdb_threads_too(tmp_path: Path) -> None:
    import os
    import threading

    from collectors.warehouse.session import BACKGROUND_NICENESS, background_priority

    tid = threading.get_native_id()
    start = os.getpriority(os.PRIO_PROCESS, tid)
    existing = set(_niceness_of_threads())
    with background_priority():
        assert os.getpriority(os.PRIO_PROCESS, tid) == min(start + BACKGROUND_NICENESS, 19)
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        con.execute("SET threads = 4")
        con.execute("SELECT sum(range) FROM range(10000000)").fetchall()
        started = {t: n for t, n in _niceness_of_threads().items() if t not in existing}
        con.close()
    assert started and set(started.values()) == {min(start + BACKGROUND_NICENESS, 19)}
    if os.geteuid() == 0:  # restoring needs the privilege to raise a priority
        assert os.getpriority(os.PRIO_PROCESS, tid) == start
