"""Every dashboard page runs under Streamlit's AppTest on a warehouse built by the real pipeline,
and the key figures it shows equal the marts' values queried here directly."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import money, ui

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "app" / "dashboard.py"
PAGES = re.findall(r'st\.Page\("(views/\w+\.py)"', DASHBOARD.read_text(encoding="utf-8"))


def test_the_navigation_lists_the_pages() -> None:
    assert {"views/overview.py", "views/cost.py", "views/latency.py", "views/reliability.py",
            "views/prices.py", "views/data_health.py"} <= set(PAGES)  # fmt: skip
    assert not (ROOT / "app" / "pages").exists(), (
        "app/pages/ beside app/dashboard.py makes Streamlit run a fresh server's first page "
        "request as a legacy multipage app (no navigation, no filters): put pages in app/views/"
    )


def open_app(home: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def window(at: AppTest) -> tuple[date, date]:
    """The local days the sidebar shows (its default on a first run: see ``app.ui.sidebar``)."""
    since, until = at.date_input(key=ui.DATES_KEY).value
    return since, until


@pytest.fixture
def con(dashboard_home: Path):  # type: ignore[no-untyped-def]
    c = duckdb.connect(str(dashboard_home / "warehouse.duckdb"), read_only=True)
    yield c
    c.close()


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(
    page: str, dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, page)
    assert_clean(at)
    assert at.title, "the page rendered nothing"


@pytest.mark.parametrize("page", PAGES)
def test_without_a_warehouse_every_page_says_how_to_load_data(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(tmp_path / "empty-home", monkeypatch, page)
    assert_clean(at)
    text = " ".join(i.value for i in at.info)
    assert "No warehouse yet" in text and "routeledger ingest" in text, text
    assert "routeledger demo" in text
    assert not (tmp_path / "empty-home" / "warehouse.duckdb").exists(), "a reader created it"


def test_overview_figures_equal_the_marts(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)  # the default page
    assert_clean(at)
    since, until = window(at)
    month = until.replace(day=1)
    week = until - timedelta(days=until.weekday())  # the fixture's weeks start on Monday
    month_usd, month_unpriced = con.execute(
        "SELECT sum(spend_usd), sum(unpriced_attempts) FROM spend_per_day "
        "WHERE local_month = ? AND local_day <= ?",
        [month, until],
    ).fetchone()
    week_usd, week_unpriced = con.execute(
        "SELECT sum(cost_usd), count(*) FILTER (WHERE cost_basis = 'unpriced') FROM attempts "
        "WHERE local_day BETWEEN ? AND ?",
        [week, until],
    ).fetchone()
    unpriced, total = con.execute(
        "SELECT count(*) FILTER (WHERE cost_basis = 'unpriced'), count(*) FROM attempts "
        "WHERE local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchone()
    # the known part, and how many attempts are not in it: never $0 for what has no price
    assert week_unpriced > 0
    # the known part as the value, the unpriced attempts in the label: the card never cuts it
    month_label = f"This month so far (+ {int(month_unpriced):,} unpriced attempts)"
    assert metric(at, month_label) == ui.usd(float(month_usd))
    week_label = f"This week so far (+ {week_unpriced:,} unpriced attempts)"
    assert metric(at, week_label) == ui.usd(float(week_usd))
    assert metric(at, "Unpriced attempts") == ui.pct(unpriced / total)
    assert 0 < unpriced < total
    assert metric(at, "Monthly budget") == "not set"  # budget.monthly_usd is not configured


def test_cost_per_success_equals_the_task_stats_mart(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/cost.py")
    assert_clean(at)
    since, until = window(at)
    mart = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT task, cost_per_successful_request_usd, logical_requests, succeeded "
            "FROM task_stats(?, ?)",
            [since, until],
        ).fetchall()
    }
    shown = at.dataframe[0].value.set_index("task")
    assert set(shown.index) == set(mart)
    for task, (cps, n, ok) in mart.items():
        got = shown.loc[task, "cost_per_successful_request_usd"]
        if cps is None:
            assert pd.isna(got)
        else:
            assert got == pytest.approx(float(cps))
        assert (shown.loc[task, "logical_requests"], shown.loc[task, "succeeded"]) == (n, ok)
    # the headline: priced requests only, numerator and denominator alike, with the coverage
    spend, succeeded, priced, n = con.execute(
        "SELECT sum(cost_usd) FILTER (WHERE priced), count(*) FILTER (WHERE succeeded AND priced), "
        "count(*) FILTER (WHERE priced), count(*) FROM logical_requests "
        "WHERE local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchone()
    # the figure, and under it the share priced (or why it is unknown): money.cost_text's parts
    want = (money.usd(float(spend) / succeeded), money.coverage_text(priced / n))
    if priced / n < 0.8:
        want = ("unknown", f"only {int(priced / n * 100)}% of requests priced")
    card = next(m for m in at.metric if m.label == "Cost per successful request")
    assert (card.value, card.delta) == want


def test_the_filters_apply_and_survive_a_page_switch(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/cost.py")
    at.multiselect(key="rl_tasks").set_value(["extract"]).run()
    at.multiselect(key="rl_teams").set_value(["support"]).run()
    assert_clean(at)
    since, until = window(at)
    spend, n = con.execute(
        "SELECT sum(cost_usd), count(*) FROM logical_requests "
        "WHERE local_day BETWEEN ? AND ? AND task = 'extract' AND team = 'support'",
        [since, until],
    ).fetchone()
    assert list(at.dataframe[0].value["task"]) == ["extract"]
    assert metric(at, "Spend") == ui.usd(float(spend))
    assert metric(at, "Logical requests") == f"{n:,}"

    at.switch_page("views/reliability.py").run()  # the filters are kept across pages
    assert_clean(at)
    assert at.multiselect(key="rl_tasks").value == ["extract"]
    (failed_usd,) = con.execute(
        "SELECT sum(cost_usd) FROM attempts WHERE local_day BETWEEN ? AND ? AND task = 'extract' "
        "AND team = 'support' AND status <> 'success'",
        [since, until],
    ).fetchone()
    assert metric(at, "Spent on failed attempts") == ui.usd(float(failed_usd or 0))


def test_latency_table_equals_the_model_task_stats_mart(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/latency.py")
    assert_clean(at)
    since, until = window(at)
    mart = con.execute(
        "SELECT coalesce(provider, '(none)'), model, task, latency_n, p50_ms, p95_ms, p99_ms "
        "FROM model_task_stats(?, ?) WHERE latency_n > 0",
        [since, until],
    ).fetchall()
    shown = at.dataframe[0].value.set_index(["provider", "model", "task"])
    assert len(shown) == len(mart)
    for provider, model, task, n, p50, p95, p99 in mart:
        row = shown.loc[(provider, model, task)]
        assert row["latency_n"] == n
        assert (row["p50_ms"], row["p95_ms"], row["p99_ms"]) == pytest.approx((p50, p95, p99))


def test_data_health_counts_quarantined_rows_and_the_failing_price_source(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/data_health.py")
    assert_clean(at)
    (quarantined,) = con.execute("SELECT count(*) FROM raw_quarantine").fetchone()
    assert quarantined == 2
    assert metric(at, "Quarantined rows") == "2"
    failing, total = con.execute(
        "SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FROM price_source_status"
    ).fetchone()
    assert failing >= 1
    assert metric(at, "Price sources failing") == f"{failing} of {total}"
    tables = [df.value for df in at.dataframe]
    samples = next(t for t in tables if "raw_excerpt" in t.columns)
    assert set(samples["reason"]) == {"invalid_json", "missing_field"}
    assert any("<not json>" in str(x) for x in samples["raw_excerpt"])  # shown as data


def test_prices_page_shows_current_prices_changes_and_unpriced_models(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/prices.py")
    assert_clean(at)
    tables = {tuple(df.value.columns)[:3]: df.value for df in at.dataframe}
    current = next(t for k, t in tables.items() if k == ("provider", "model_id", "source"))
    assert {"gpt-4o-mini", "deepseek-chat"} <= set(current["model_id"])
    unpriced = next(t for t in tables.values() if "reason" in t.columns)
    assert "acme-large" in set(unpriced["model"])


def test_log_strings_reach_charts_escaped(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)
    at.radio(key="overview_stack").set_value("Team").run()
    assert_clean(at)
    specs = " ".join(json.dumps(json.loads(c.proto.spec)) for c in at.get("plotly_chart"))
    assert "&lt;b&gt;growth&lt;/b&gt;" in specs
    assert "<b>growth</b>" not in specs


# -- the provider and model filters count attempts, or whole requests when asked ------------------


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_without_a_provider_or_model_filter_there_is_no_count_control(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/reliability.py")
    at.multiselect(key="rl_tasks").set_value(["extract"]).run()
    assert_clean(at)
    assert ui.GRAIN_WIDGET_KEY not in {r.key for r in at.radio}
    assert metric(at, "Requests retried")


def test_a_provider_filter_shows_its_own_attempts_retry_share(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/reliability.py")
    at.multiselect(key="rl_providers").set_value(["openai"]).run()
    assert_clean(at)
    since, until = window(at)
    n, followed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE followed_by_another) FROM attempts "
        "WHERE provider = 'openai' AND local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchone()
    assert 0 < followed < n
    assert at.radio(key=ui.GRAIN_WIDGET_KEY).value == "attempt"
    assert metric(at, "Attempts followed by another") == ui.pct(followed / n) != ui.pct(1.0)
    assert "Requests retried" not in {m.label for m in at.metric}
    assert "own attempts" in captions(at)

    # the request-level view: the old whole-request figure, labelled
    at.radio(key=ui.GRAIN_WIDGET_KEY).set_value("request").run()
    assert_clean(at)
    requests, retried = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE retried) FROM logical_requests "
        "WHERE (first_provider = 'openai' OR final_provider = 'openai') "
        "AND local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchone()
    assert metric(at, "Requests retried") == ui.pct(retried / requests)
    assert "whole requests that touched the selected providers" in captions(at).lower()


def test_a_model_and_task_filter_shows_the_models_own_spend(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/cost.py")
    at.multiselect(key="rl_models").set_value(["claude-3-haiku"]).run()
    at.multiselect(key="rl_tasks").set_value(["summarize"]).run()
    assert_clean(at)
    since, until = window(at)
    spend, n = con.execute(
        "SELECT sum(cost_usd), count(*) FROM attempts WHERE served_model = 'claude-3-haiku' "
        "AND task = 'summarize' AND local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchone()
    assert metric(at, "Spend") == ui.usd(float(spend))
    assert metric(at, "Attempts") == f"{n:,}"
    table = at.dataframe[0].value
    assert list(table["task"]) == ["summarize"]
    assert float(table["spend_usd"].iloc[0]) == pytest.approx(float(spend))
    assert "own attempts" in captions(at)

    at.switch_page("views/overview.py").run()  # Overview's spend agrees: per attempt too
    assert_clean(at)
    assert "own attempts" in captions(at)

    at.switch_page("views/cost.py").run()
    at.radio(key=ui.GRAIN_WIDGET_KEY).set_value("request").run()
    assert_clean(at)
    whole, requests = con.execute(
        "SELECT sum(cost_usd), count(*) FROM logical_requests "
        "WHERE list_contains(chain, 'claude-3-haiku') AND task = 'summarize' "
        "AND local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchone()
    assert float(whole) > float(spend)  # the other models' attempts of the same requests
    assert metric(at, "Spend") == ui.usd(float(whole))
    assert metric(at, "Logical requests") == f"{requests:,}"
    assert "whole requests that touched the selected models" in captions(at).lower()

    at.switch_page("views/reliability.py").run()  # the choice is kept across pages
    assert_clean(at)
    assert at.radio(key=ui.GRAIN_WIDGET_KEY).value == "request"
    assert metric(at, "Requests retried")
