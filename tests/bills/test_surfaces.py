"""The Reconciliation page (Streamlit AppTest), the weekly report, the CLI and the drift alert
on one small warehouse: the same drift figure for one day everywhere, the alert sent once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from app import bills, ui
from app.cli import main
from app.reports import bill_alerts, build
from collectors.bills import api
from tests.bills.conftest import Server, write_bills

DASHBOARD = Path(__file__).resolve().parents[2] / "app" / "dashboard.py"
DAY = date(2026, 3, 3)


def _page(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.run()
    at.switch_page("views/reconciliation.py").run()
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_page_says_how_to_import_bills(home: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = home()
    at = _page(cfg.home, monkeypatch)
    assert not at.exception and not at.error
    assert any("routeledger bills import" in i.value for i in at.info)


def test_page_report_and_cli_give_the_same_drift(
    home: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = home()
    api.import_files(cfg, write_bills(tmp_path / "bills"))
    truth = Decimal("6.8")  # anthropic on 2026-03-03: billed $9.00, recomputed $2.20

    at = _page(cfg.home, monkeypatch)
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.date_input(key=ui.DATES_KEY).set_value((DAY, DAY)).run()
    at.multiselect(key="rl_providers").set_value(["anthropic"]).run()
    assert not at.exception and not at.error
    assert _metric(at, "Billed") == "$9.00"
    assert _metric(at, "Drift") == bills.signed_usd(truth) == "+$6.80"
    assert len(at.dataframe) >= 2

    report = build.build(cfg, build.week_of(DAY, cfg.week_start))
    (day,) = [
        d for d in report["bills"]["days"] if d["day"] == DAY and d["provider"] == "anthropic"
    ]
    assert day["drift_usd"] == truth
    assert "billed but not in the gateway's logs" in day["line"]

    res = CliRunner().invoke(main, ["--home", str(cfg.home), "bills", "drift", "--since",
                                    "2026-03-03", "--until", "2026-03-03", "--json"])  # fmt: skip
    (cli,) = [d for d in json.loads(res.stdout)["days"] if d["provider"] == "anthropic"]
    assert Decimal(str(cli["drift_usd"])) == truth


def test_the_drift_alert_fires_once(home: Any, tmp_path: Path, server: Server) -> None:
    cfg = home(f'\n[delivery]\nwebhook_url = "{server.url}/hook"\n')
    api.import_files(cfg, write_bills(tmp_path / "bills"))
    now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    first = bill_alerts.check(cfg, now)
    assert (first["new"], first["sent"], first["failed"]) == (2, 2, 0)  # openai and anthropic
    (body,) = server.posted
    assert "2026-03-03, anthropic: billed $9.00, recomputed $2.20, drift +$6.80" in body["text"]
    assert "failed attempts not billed" in body["text"]
    again = bill_alerts.check(cfg, now)
    assert (again["new"], again["sent"]) == (0, 0) and len(server.posted) == 1
    later = bill_alerts.check(cfg, datetime(2026, 3, 30, tzinfo=UTC))  # old days: not news
    assert later["new"] == 0
