"""A writer that takes the warehouse between two of a page's queries and keeps it longer than
the dashboard waits (as a marts rebuild does right after an ingest commits its last batch): the
page says the warehouse is busy and tries again; it never shows a traceback.

The writer is a real process holding DuckDB's write lock; it is started at the moment the
sidebar asks for its filter options, after the page's first query got through.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import queries, ui
from tests.faults.helpers import ROOT, attempt_line, run_cli

HOLD = ui.LOCK_TIMEOUT_SECONDS + 2
HOLDER = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "con.close()\n"
)


def test_a_writer_taking_the_lock_mid_page_is_a_busy_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(  # no read snapshot: the page has to wait
        "[prices]\nauto_catalog = false\n\n[warehouse]\nread_snapshot = false\n", encoding="utf-8"
    )
    log = tmp_path / "gateway.jsonl"
    at = datetime.now(UTC) - timedelta(hours=1)
    log.write_bytes(b"".join(attempt_line("busy", i, at) for i in range(40)))
    assert run_cli(home, "ingest", str(log), "--json").returncode == 0

    holders: list[subprocess.Popen[str]] = []
    real = ui.query

    def query(ctx: ui.Ctx, fn: Any, *args: Any) -> Any:
        if fn is queries.filter_options and not holders:  # a writer gets in right here
            p = subprocess.Popen([sys.executable, "-c", HOLDER, str(home / "warehouse.duckdb"),
                                  str(HOLD)], cwd=ROOT, stdout=subprocess.PIPE, text=True)  # fmt: skip
            holders.append(p)
            assert p.stdout is not None and p.stdout.readline().strip() == "held"
        return real(ctx, fn, *args)

    monkeypatch.setattr("app.ui_filters.query", query)
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    app = AppTest.from_file(str(ROOT / "app" / "dashboard.py"), default_timeout=90)
    try:
        app.run()
    finally:
        for p in holders:
            p.wait(timeout=60)
    assert holders, "the sidebar never asked for its filter options"
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert [h.value for h in app.sidebar.header] == ["Filters"]  # rendered once the writer left


REBUILDER = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('BEGIN'); con.execute('DELETE FROM attempts'); con.execute('DELETE FROM spend_per_day')\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def test_with_the_read_snapshot_a_page_renders_during_a_rebuild_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer holds the warehouse for the whole run, mid-rebuild (the marts emptied in its open
    transaction): every query reads the read snapshot at once, the page shows the figures of the
    last refresh and says so, and never the busy notice."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
    log = tmp_path / "gateway.jsonl"
    at = datetime.now(UTC) - timedelta(hours=1)
    log.write_bytes(b"".join(attempt_line("snap", i, at) for i in range(40)))
    assert run_cli(home, "ingest", str(log), "--json").returncode == 0
    assert (home / "warehouse.duckdb.snapshot").exists()
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    free = AppTest.from_file(str(ROOT / "app" / "dashboard.py"), default_timeout=90)
    free.run()
    before = [(m.label, m.value) for m in free.metric]
    assert before and not [c for c in free.caption if "last refresh" in c.value]
    p = subprocess.Popen([sys.executable, "-c", REBUILDER, str(home / "warehouse.duckdb"), "120"],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "held"
        st.cache_data.clear()  # no result of the first run is reused: every query reads anew
        app = AppTest.from_file(str(ROOT / "app" / "dashboard.py"), default_timeout=90)
        app.run()
        assert p.poll() is None  # the writer held the warehouse throughout
    finally:
        p.kill()
        p.wait()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert not [w.value for w in app.warning if "busy" in w.value]
    assert any("as of their last refresh" in c.value for c in app.caption)
    # the figures of the last refresh, as the page showed them with no writer about
    assert [(m.label, m.value) for m in app.metric] == before
