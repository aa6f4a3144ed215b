"""`routeledger serve` as a real process: SIGTERM and SIGINT stop it cleanly after the file it is
on (exit 0, job_runs and loads consistent, the loaded files complete), and `serve --once`
runs what is due (a budget threshold alerts once, the week's report is sent once)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.warehouse import Warehouse
from tests.reports.conftest import Hook
from tests.reports.data import TOML, rows, write_log

ROOT = Path(__file__).resolve().parents[2]
FILES = 20


def cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", "--home", str(home), *args]


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _files_home(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "routeledger.toml").write_text(
        TOML + '\n[[sources]]\npath = "logs/*.jsonl"\n', encoding="utf-8"
    )
    data = rows(per_day=15)
    for i in range(FILES):
        write_log(
            home / "logs" / f"part-{i:02d}.jsonl",
            [
                {
                    **r,
                    "attempt_id": f"{i}-{r['attempt_id']}",
                    "logical_request_id": f"{i}-{r['logical_request_id']}",
                }
                for r in data
            ],
        )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_serve_cleanly_after_the_current_file(
    tmp_path: Path, sig: signal.Signals
) -> None:
    home = tmp_path / "home"
    _files_home(home)
    proc = subprocess.Popen(
        cli(home, "serve"), cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    log: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if "job ingest started" in line:
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(90), "".join(log)
        time.sleep(1.5)  # a few files in
        proc.send_signal(sig)
        assert proc.wait(timeout=90) == 0, "".join(log)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    text = "".join(log)
    assert f"{sig.name} received: stopping after the current batch" in text
    assert "Traceback" not in text
    runs = query(home, "SELECT job, status, ended_at IS NOT NULL, detail FROM job_runs")
    ingest = [r for r in runs if r[0] == "ingest"]
    assert len(ingest) == 1 and all(r[1] != "running" and r[2] for r in runs), runs
    status, detail = ingest[0][1], ingest[0][3]
    done = int(detail.split(" of ")[0])
    assert status == "stopped" and 0 < done < FILES, detail
    # what was loaded is whole files, every one complete, and counted once
    loads = query(home, "SELECT status, count(*) FROM loads GROUP BY ALL")
    assert loads == [("ok", done)]
    per_file = len(rows(per_day=15))
    assert query(home, "SELECT count(*) FROM raw_attempts") == [(done * per_file,)]
    complete = query(home, "SELECT count(*) FROM file_cursors WHERE offset_bytes = size_bytes")
    assert complete == [(done,)]


def test_serve_once_runs_what_is_due_and_alerts_once(
    tmp_path: Path,
    webhook: Callable[..., Hook],
) -> None:
    hook = webhook(200)
    home = tmp_path / "home"
    home.mkdir()
    today = datetime.now(UTC).date()
    write_log(home / "logs" / "today.jsonl", rows(per_day=20, first=today, days=1))
    (home / "routeledger.toml").write_text(
        TOML + '\n[[sources]]\npath = "logs/*.jsonl"\n\n[budget]\nmonthly_usd = 0.01\n'
        f'\n[delivery]\nwebhook_url = "{hook.url}"\n',
        encoding="utf-8",
    )
    # the daily price refresh ran just now (so nothing reaches for the network)
    wh = Warehouse(home / "warehouse.duckdb")
    wh.migrate()
    with wh.connect() as con:
        con.execute(
            "INSERT INTO job_runs VALUES ('prices', now()::TIMESTAMP, now()::TIMESTAMP, 'ok', '')"
        )

    def once() -> dict[str, str]:
        p = subprocess.run(
            cli(home, "serve", "--once", "--json"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert p.returncode == 0, p.stderr
        return {j["job"]: j["status"] for j in json.loads(p.stdout)["jobs"]}

    first = once()
    assert first.pop("incidents") == "ok"  # a webhook is configured: incidents are checked
    assert first == {"ingest": "ok", "budget": "ok", "tuner": "skipped", "report": "ok"}
    again = once()
    again.pop("incidents", None)
    assert again == {"ingest": "ok", "budget": "ok", "tuner": "skipped"}
    alerts = [b for b in hook.bodies if "budget alert" in b["text"]]
    reports = [b for b in hook.bodies if "weekly cost report" in b["text"]]
    assert len(alerts) == 1 and len(reports) == 1  # once each, not on every run
    assert "threshold 80%" in alerts[0]["text"] and "threshold 100%" in alerts[0]["text"]
    assert query(home, "SELECT status, count(*) FROM budget_alerts GROUP BY ALL") == [("sent", 2)]
    assert query(home, "SELECT channel, status, trigger FROM report_deliveries") == [
        ("webhook", "sent", "schedule")
    ]
    assert query(home, "SELECT count(*) FROM job_runs WHERE status = 'running'") == [(0,)]
