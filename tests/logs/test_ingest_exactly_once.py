"""Exactly-once ingest: re-runs, growing files, truncated last lines, kills and rotation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from collectors.config import Config
from collectors.pipeline import ingest
from tests.logs.helpers import slp, slp_lines


def totals(cfg: Config) -> tuple[int, int, int]:
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        row = con.execute(
            "SELECT count(*), count(DISTINCT attempt_id), coalesce(sum(input_tokens), 0) FROM raw_attempts"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def expected_tokens(n: int) -> int:
    return sum(100 + i % 7 for i in range(n))


def test_reingest_same_file_loads_nothing_new(cfg: Config, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_bytes(slp_lines(50))
    first = ingest(cfg, [str(log)])
    assert first.attempts_loaded == 50 and first.logical_requests == 25
    again = ingest(cfg, [str(log)])
    assert again.attempts_loaded == 0 and again.quarantined == 0
    assert totals(cfg) == (50, 50, expected_tokens(50))


def test_growing_file_in_halves_with_truncated_line(cfg: Config, tmp_path: Path) -> None:
    data = slp_lines(120)
    lines = data.split(b"\n")
    half = b"\n".join(lines[:60]) + b"\n"
    log = tmp_path / "grow.jsonl"
    partial = lines[60][: len(lines[60]) // 2]  # the writer is mid-line
    log.write_bytes(half + partial)
    s1 = ingest(cfg, [str(log)])
    assert s1.attempts_loaded == 60 and s1.quarantined == 0
    assert s1.waiting_bytes == len(partial)
    log.write_bytes(data)  # the writer finished the line and appended the rest
    s2 = ingest(cfg, [str(log)])
    assert s2.attempts_loaded == 60 and s2.duplicates_skipped == 0 and s2.quarantined == 0
    s3 = ingest(cfg, [str(log)])
    assert s3.attempts_loaded == 0
    assert totals(cfg) == (120, 120, expected_tokens(120))
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    lines_seen = con.execute(
        "SELECT min(source_line), max(source_line) FROM raw_attempts"
    ).fetchone()
    cursor = con.execute("SELECT offset_bytes, lines_read FROM file_cursors").fetchone()
    con.close()
    assert lines_seen == (1, 120)
    assert cursor == (len(data), 120)


def test_only_new_bytes_are_read_on_growth(cfg: Config, tmp_path: Path) -> None:
    log = tmp_path / "g.jsonl"
    log.write_bytes(slp_lines(40))
    ingest(cfg, [str(log)])
    extra = slp_lines(3, start=40)
    with open(log, "ab") as f:
        f.write(extra)
    ingest(cfg, [str(log)])
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    read = con.execute("SELECT bytes_read FROM loads ORDER BY started_at").fetchall()
    con.close()
    assert read[-1][0] == len(extra)


def test_rotated_file_is_reread_without_double_counting(cfg: Config, tmp_path: Path) -> None:
    log = tmp_path / "rot.jsonl"
    log.write_bytes(slp_lines(30))
    ingest(cfg, [str(log)])
    log.write_bytes(slp_lines(10, start=25))  # replaced: 5 old attempts, 5 new
    s = ingest(cfg, [str(log)])
    assert s.attempts_loaded == 5 and s.duplicates_skipped == 5
    assert totals(cfg)[0] == 35


def test_duplicate_lines_inside_one_file_count_once(cfg: Config, tmp_path: Path) -> None:
    one = json.dumps(slp(7)).encode() + b"\n"
    log = tmp_path / "dup.jsonl"
    log.write_bytes(one * 3 + slp_lines(2, start=100))
    s = ingest(cfg, [str(log)])
    assert s.attempts_loaded == 3 and s.duplicates_skipped == 2


def test_sigkill_mid_file_then_rerun_gives_exact_totals(home: Path, tmp_path: Path) -> None:
    (home / "routeledger.toml").write_text("[ingest]\nbatch_bytes = 1048576\n", encoding="utf-8")
    n = 3000
    log = tmp_path / "big.jsonl"
    log.write_bytes(slp_lines(n))
    env = {**os.environ, "ROUTELEDGER_HOME": str(home)}
    cmd = [sys.executable, "-m", "app.cli", "ingest", str(log), "--json"]
    # -v logs each committed batch: kill right after the second one, wherever it lands
    p = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "-v", "ingest", str(log), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stderr is not None
    commits = 0
    for line in p.stderr:
        if "committed through line" in line:
            commits += 1
            if commits == 2:
                p.send_signal(signal.SIGKILL)
                break
    p.wait(timeout=60)
    assert commits == 2 and p.returncode == -signal.SIGKILL
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    loaded = con.execute("SELECT count(*) FROM raw_attempts").fetchone()[0]
    con.close()
    assert 0 < loaded < n
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    assert summary["duplicates_skipped"] == 0  # the cursor and the rows were committed together
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    count, distinct, tokens = con.execute(
        "SELECT count(*), count(DISTINCT attempt_id), sum(input_tokens) FROM raw_attempts"
    ).fetchone()
    statuses = dict(con.execute("SELECT status, count(*) FROM loads GROUP BY status").fetchall())
    con.close()
    assert (count, distinct, tokens) == (n, n, expected_tokens(n))
    assert statuses.get("interrupted", 0) >= 1 and statuses.get("running", 0) == 0


def test_reader_in_another_process_sees_no_error_while_ingest_writes(
    home: Path, tmp_path: Path
) -> None:
    log = tmp_path / "w.jsonl"
    log.write_bytes(slp_lines(2500))
    env = {**os.environ, "ROUTELEDGER_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "app.cli", "init"], env=env, check=True, capture_output=True
    )
    writer = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(log), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader = (
        "import sys; from collectors.warehouse import Warehouse\n"
        "w = Warehouse(sys.argv[1], lock_timeout=60)\n"
        "counts = []\n"
        "for _ in range(15):\n"
        "    with w.connect(read_only=True) as c:\n"
        "        counts.append(c.execute('SELECT count(*) FROM raw_attempts').fetchone()[0])\n"
        "print(counts)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", reader, str(home / "warehouse.duckdb")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    writer_out, writer_err = writer.communicate(timeout=240)
    assert r.returncode == 0, r.stderr
    assert writer.returncode == 0, writer_err
    counts = json.loads(r.stdout)
    assert counts == sorted(counts)  # totals only grow: a reader never sees a half batch undone
    assert json.loads(writer_out)["attempts_loaded"] == 2500
