"""One window on the demo: `stats`, `tune` and the dashboard default to the same days, and the
tuner's replay of the current routing is what those days cost, task by task (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from app import queries, ui
from app.cli import main
from app.tuner.proposal import propose
from app.window import default_window
from collectors import config
from collectors.warehouse import Warehouse

DASHBOARD = Path(__file__).resolve().parents[2] / "app" / "dashboard.py"


def _cli(home: Path, *args: str) -> dict[str, object]:
    res = CliRunner().invoke(main, ["--home", str(home), *args, "--json"])
    assert res.exit_code == 0, res.output
    out: dict[str, object] = json.loads(res.stdout)
    return out


def test_stats_tune_and_the_dashboard_share_the_default_window(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config.load(demo_home)
    stats = _cli(demo_home, "stats")
    tune = _cli(demo_home, "tune", "--manifest", str(demo_home / "manifest.yaml"))
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        first, last = queries.data_span(con)
    expected = default_window(cfg, last)
    assert first is not None and first <= expected.since  # the demo spans more than the window
    assert stats["window"] == tune["window"] == expected.as_json()
    assert expected.until == last and expected.days == 28

    monkeypatch.setenv("ROUTELEDGER_HOME", str(demo_home))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert tuple(at.session_state[ui.DATES_KEY]) == expected.as_tuple()


def test_the_replay_of_the_current_routing_is_what_the_window_cost(demo_home: Path) -> None:
    cfg = config.load(demo_home)
    p = propose(cfg, demo_home / "manifest.yaml", resamples=20, refresh_prices=False)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        actual = {r["task"]: r for r in queries.task_stats(con, p.since, p.until)}
    assert {s.task for s in p.savings} == set(p.manifest.tasks)
    for s in p.savings:
        assert s.current is not None, s.task
        row = actual[s.task]
        assert abs(s.current.spend_usd - float(row["spend_usd"] or 0)) < 1e-6, s.task
        assert s.current.requests == row["logical_requests"]
        assert s.current.successes == row["succeeded"]
        assert s.proposed is not None and s.savings_usd is not None
        assert s.proposed.spend_usd == pytest.approx(s.current.spend_usd - s.savings_usd)
        if s.proposed == s.current:
            assert s.savings_usd == s.low_usd == s.high_usd == 0
        else:
            assert s.low_usd is not None and s.high_usd is not None
            assert s.low_usd - 1e-9 <= s.savings_usd <= s.high_usd + 1e-9
    total = p.as_json()["savings"]
    assert total["current_spend_usd"] == pytest.approx(
        sum(float(actual[t]["spend_usd"] or 0) for t in p.manifest.tasks), abs=1e-5
    )
    assert total["low_usd"] <= total["savings_usd"] <= total["high_usd"]
