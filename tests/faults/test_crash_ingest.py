"""SIGKILL during `routeledger ingest` of a multi-batch file, at seeded random points, then
re-runs: every attempt loaded exactly once, the loads and the file cursor agreeing with the rows
after every kill, the killed load marked ``interrupted`` by the next run, and the marts equal to
the raw rows once the file is done.

A point is "``k`` batches committed (the ``-v`` line "committed through line N"), then a random
delay", so kills land anywhere: in parsing, inside a commit, between batches, in the marts
update. ``k = 0`` counts the delay from the process start.

And one deterministic point: a run killed after its last batch, as it starts updating the marts
(the first line it runs in ``collectors/warehouse/marts.py``): the next `routeledger ingest`, or the next
scheduled ingest of `routeledger serve`, finds nothing new to read and must still bring the
marts up to date.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.warehouse import Warehouse
from tests.faults.helpers import ROOT, attempt_line, cli, query, run_killed, seed

LINES = 1500
KILLS = 4
TOML = (
    "[ingest]\nbatch_bytes = 16384\n\n[warehouse]\nlock_timeout_seconds = 60\n\n"
    "[prices]\nauto_catalog = false\n"
)


def make_home(tmp_path: Path) -> tuple[Path, Path, list[int]]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(TOML, encoding="utf-8")
    lines = [attempt_line("crash", i) for i in range(LINES)]
    log = tmp_path / "gateway.jsonl"
    log.write_bytes(b"".join(lines))
    ends = [0]
    for line in lines:
        ends.append(ends[-1] + len(line))
    return home, log, ends  # ends[n]: the byte offset after n lines


def state(home: Path, log: Path) -> dict:
    if not (home / "warehouse.duckdb").exists():  # killed before it was created
        return {
            "rows": 0,
            "distinct": 0,
            "tokens": 0,
            "cursor": (0, 0),
            "loads": [],
            "quarantined": 0,
        }
    rows, distinct, tokens = query(
        home,
        "SELECT count(*), count(DISTINCT attempt_id), coalesce(sum(input_tokens), 0) "
        "FROM raw_attempts",
    )[0]
    cursor = query(
        home, "SELECT offset_bytes, lines_read FROM file_cursors WHERE file = ?", [str(log)]
    )
    loads = query(home, "SELECT load_id, status, rows_loaded, pid FROM loads ORDER BY started_at")
    return {
        "rows": rows,
        "distinct": distinct,
        "tokens": tokens,
        "cursor": cursor[0] if cursor else (0, 0),
        "loads": loads,
        "quarantined": query(home, "SELECT count(*) FROM raw_quarantine")[0][0],
    }


def consistent(s: dict, ends: list[int], why: str) -> None:
    """What must hold after any kill: rows, cursor and load counters agree."""
    offset, lines = s["cursor"]
    assert s["rows"] == s["distinct"], f"{why}: duplicate attempts {s}"
    assert s["quarantined"] == 0, f"{why}: {s}"
    assert lines == s["rows"], f"{why}: the cursor says {lines} lines, the table has {s['rows']}"
    assert offset == ends[lines], f"{why}: the cursor's offset is not the end of line {lines}"
    assert sum(r[2] for r in s["loads"]) == s["rows"], f"{why}: load counters {s['loads']}"
    assert s["tokens"] == sum(100 + i % 7 for i in range(s["rows"])), f"{why}: not a prefix"
    assert [r for r in s["loads"] if r[1] not in ("ok", "running", "interrupted")] == [], why
    assert len([r for r in s["loads"] if r[1] == "running"]) <= 1, f"{why}: {s['loads']}"


@pytest.mark.slow
def test_sigkill_at_random_points_of_a_multi_batch_ingest(tmp_path: Path) -> None:
    rng = random.Random(seed("ingest"))
    home, log, ends = make_home(tmp_path)
    cmd = cli(home, "-v", "ingest", str(log), "--json")
    interrupted: list[str] = []  # loads left running by a kill: the next run must mark them
    loaded: list[int] = []  # attempts in the warehouse after each kill
    for i in range(KILLS):
        # the first kill lands a few batches in, so the campaign always cuts the file mid-way;
        # later ones may land anywhere, also after the last batch (in the marts update)
        commits = rng.randint(1 if i == 0 else 0, 5)
        delay = rng.uniform(0.8, 3.0) if commits == 0 else rng.uniform(0.0, 0.6)
        why = f"kill {i + 1}: after {commits} commits + {delay:.2f}s (FAULT_SEED in the output)"
        code, err = run_killed(cmd, "committed through line", commits, delay)
        assert code in (-signal.SIGKILL, 0), f"{why}: exit {code}\n{err[-3000:]}"
        assert "Traceback" not in err, f"{why}\n{err[-3000:]}"
        s = state(home, log)
        print(f"{why}: exit {code}, {s['rows']} of {LINES} attempts loaded")
        consistent(s, ends, why)
        statuses = {r[0]: r[1] for r in s["loads"]}
        if "committed through line" in err:  # this run got going: it settled the earlier kills
            assert all(statuses[load] == "interrupted" for load in interrupted), f"{why}: {s}"
        interrupted += [r[0] for r in s["loads"] if r[1] == "running" and r[0] not in interrupted]
        loaded.append(s["rows"])
    assert any(0 < n < LINES for n in loaded), loaded  # a kill landed mid-file

    before = state(home, log)["rows"]
    final = subprocess.run(
        cli(home, "ingest", str(log), "--json"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["attempts_loaded"] == LINES - before
    assert summary["duplicates_skipped"] == 0 and summary["quarantined"] == 0
    s = state(home, log)
    consistent(s, ends, "after the final run")
    assert (s["rows"], s["distinct"]) == (LINES, LINES)
    assert s["cursor"] == (log.stat().st_size, LINES)
    statuses = [r[1] for r in s["loads"]]
    assert statuses.count("running") == 0 and statuses.count("ok") >= 1
    assert statuses.count("interrupted") == len(interrupted) >= 1
    # what the dashboard reads: the marts hold every attempt and request once
    assert query(home, "SELECT count(*), count(DISTINCT attempt_id) FROM attempts") == [
        (LINES, LINES)
    ]
    assert query(home, "SELECT count(*) FROM logical_requests") == [(LINES // 2,)]


@pytest.mark.parametrize("rerun", ["ingest", "serve --once"])
def test_a_run_killed_before_the_marts_update_is_caught_up_by_the_rerun(
    tmp_path: Path, rerun: str
) -> None:
    home, log, _ = make_home(tmp_path)
    if rerun == "serve --once":  # the log as a source of the scheduled ingest
        with open(home / "routeledger.toml", "a", encoding="utf-8") as f:
            f.write(f'\n[[sources]]\npath = "{log}"\n')
    # killed at the first line run in collectors/warehouse/marts.py: every batch is committed, the
    # marts are not updated yet
    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.faults.driver",
            "--kill-line",
            "1",
            "--trace",
            "collectors/warehouse/marts.py",
            "cli",
            "--home",
            str(home),
            "ingest",
            str(log),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert query(home, "SELECT count(*) FROM raw_attempts") == [(LINES,)]
    assert query(home, "SELECT count(*) FROM attempts") != [(LINES,)]  # behind, for now
    if rerun == "ingest":
        again = subprocess.run(
            cli(home, "ingest", str(log), "--json"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["attempts_loaded"] == 0
    else:
        Warehouse(home / "warehouse.duckdb").migrate()
        with Warehouse(home / "warehouse.duckdb").connect() as con:  # only ingest is due
            for job in ("prices", "tuner", "report"):
                con.execute(
                    "INSERT INTO job_runs VALUES (?, now()::TIMESTAMP, now()::TIMESTAMP, 'ok', '')",
                    [job],
                )
        again = subprocess.run(
            cli(home, "serve", "--once", "--json"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert again.returncode == 0, again.stderr
        jobs = {j["job"]: j for j in json.loads(again.stdout)["jobs"]}
        assert list(jobs) == ["ingest"] and jobs["ingest"]["status"] == "ok", jobs
        assert "0 attempts loaded" in jobs["ingest"]["detail"], jobs
    # what the dashboard reads caught up with what was loaded
    assert query(home, "SELECT count(*) FROM attempts") == [(LINES,)]
