"""The page frame every page shares: a busy warehouse, a warehouse without attempts, a cache that
follows the warehouse's changes, an error rendered as one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import queries, ui
from collectors import config, pipeline
from collectors.errors import WarehouseBusy
from collectors.pipeline import ingest
from tests.app.test_pages import DASHBOARD, assert_clean, metric, open_app
from tests.app.warehouse_fixture import PRICE_FIXTURES, rows


@pytest.fixture
def home_copy(dashboard_home: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(dashboard_home, home)
    st.cache_data.clear()
    return home


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_a_writer_holding_the_warehouse_shows_busy_then_the_page(
    home_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.ui_page.LOCK_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr("app.ui_page.BUSY_RETRY_SECONDS", 0)
    shown: list[str] = []
    real_rerun = ui.st.rerun

    def rerun() -> None:  # remember the warning of each busy run, then really rerun
        shown.append("busy")
        time.sleep(0.5)
        real_rerun()

    monkeypatch.setattr(ui.st, "rerun", rerun)
    (home_copy / "warehouse.duckdb.snapshot").unlink()  # no read snapshot: the page must wait
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(home_copy / "warehouse.duckdb"), "3"],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        at = open_app(home_copy, monkeypatch, "views/cost.py")
    finally:
        holder.wait(timeout=30)
    assert shown, "the page never met the lock"
    assert_clean(at)  # once the writer let go, the page rendered
    assert at.dataframe


def test_busy_is_a_warning_not_an_error(home_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(*args: object) -> None:
        raise WarehouseBusy("held by another process")

    monkeypatch.setattr(queries, "task_cost", busy)
    monkeypatch.setattr("app.ui_page.BUSY_RETRY_SECONDS", 0)
    monkeypatch.setattr(ui.st, "rerun", lambda: None)
    at = open_app(home_copy, monkeypatch, "views/cost.py")
    assert_clean(at)
    assert any("busy" in w.value for w in at.warning)


def test_an_unexpected_error_is_one_line_not_a_traceback(
    home_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("column x does not exist\nLINE 1: SELECT x ...")

    monkeypatch.setattr(queries, "fallback_flows", broken)
    at = open_app(home_copy, monkeypatch, "views/reliability.py")
    assert not at.exception
    (err,) = at.error
    assert err.value == "Reliability could not be shown: RuntimeError: column x does not exist"


def test_new_data_shows_without_waiting_for_the_cache(
    home_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(home_copy, monkeypatch, "views/data_health.py")
    assert metric(at, "Quarantined rows") == "2"
    log = home_copy / "logs" / "more.jsonl"
    good = json.dumps(rows(date(2026, 10, 21), days=1, per_day=1)[0])
    log.write_text(good + "\n" + '{"not": "an attempt"\n' + "{oops\n" * 3)
    assert ingest(config.load(home_copy), [str(log)]).quarantined == 4
    at.run()
    assert metric(at, "Quarantined rows") == "6"


def test_a_warehouse_with_prices_but_no_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "prices-only"
    home.mkdir()
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n")
    pipeline.refresh_prices(
        config.load(home), from_files={"openrouter": PRICE_FIXTURES / "openrouter_models.json"}
    )
    at = open_app(home, monkeypatch)
    assert_clean(at)
    assert any("no attempts yet" in i.value for i in at.info)
    at.switch_page("views/prices.py").run()
    assert_clean(at)
    assert at.dataframe and len(at.dataframe[0].value) > 100  # every price, nothing to match


def test_a_bad_config_is_one_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "bad"
    home.mkdir()
    (home / "routeledger.toml").write_text('[calendar]\ntimezone = "Mars/Olympus"\n')
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60).run()
    assert not at.exception
    (err,) = at.error
    assert "calendar.timezone" in err.value and "\n" not in err.value
