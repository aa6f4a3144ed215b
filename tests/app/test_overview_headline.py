"""The Overview's headline for the selected range: each figure equals an independent query of the
marts over the range, and its delta the same query over the previous period of equal length; a
previous period without data says "no data before", never a red "new"."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from app import money, ui
from tests.app.test_pages import assert_clean, metric, open_app, window

GRAY, NO_ARROW = Metric.MetricColor.GRAY, Metric.MetricDirection.NONE
REQUESTS_SQL = """
SELECT count(*) AS n,
    count(*) FILTER (WHERE succeeded) AS ok,
    sum(cost_usd) AS spend,
    sum(unpriced_attempts) AS unpriced,
    count(*) FILTER (WHERE priced) AS priced,
    count(*) FILTER (WHERE priced AND succeeded) AS priced_ok,
    sum(cost_usd) FILTER (WHERE priced) AS priced_spend,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE succeeded) AS p95,
    count(*) FILTER (WHERE retried) AS retried,
    count(*) FILTER (WHERE fell_back) AS fell_back
FROM logical_requests WHERE local_day BETWEEN ? AND ?
"""


@pytest.fixture
def marts(dashboard_home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(dashboard_home / "warehouse.duckdb"), read_only=True)
    yield c
    c.close()


def figures(con: duckdb.DuckDBPyConnection, since: date, until: date) -> dict[str, Any]:
    cur = con.execute(REQUESTS_SQL, [since, until])
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def cost_per_success(r: dict[str, Any]) -> tuple[float | None, float, str | None]:
    """DESIGN's rule, written here again: priced requests only, numerator and denominator
    alike, unknown below 80% of requests priced (metrics.min_price_coverage's default)."""
    coverage = r["priced"] / r["n"]
    if coverage < 0.8:
        return None, coverage, f"only {math.floor(coverage * 100)}% of requests priced"
    return float(r["priced_spend"]) / r["priced_ok"], coverage, None


def pct_change(now: float, before: float) -> str:
    return f"{(now / before - 1) * 100:+.1f}%"


def pp_change(now: float, before: float) -> str:
    return f"{(now - before) * 100:+.1f} pp"


def card(at: AppTest, label: str) -> Any:
    """The card called ``label``, its qualifier in brackets or not ("Spend (+ 3 unpriced
    attempts)")."""
    return next(m for m in at.metric if m.label == label or m.label.startswith(label + " ("))


def cost_card(value: float | None, coverage: float, reason: str | None) -> tuple[str, str, Any]:
    """The cost per success card's label, value and delta line when the value is unknown: the
    value on its own line, its coverage in the label, why it is unknown under it."""
    label = "Cost per successful request"
    if value is None:
        return label, "unknown", reason
    if coverage < 1:
        label += f" ({math.floor(coverage * 100)}% of requests priced)"
    return label, money.usd(value), None


def test_headline_equals_the_marts_for_the_range_and_the_one_before(
    dashboard_home: Path, marts: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)
    assert_clean(at)
    since, until = window(at)
    days = (until - since).days + 1
    now = figures(marts, since, until)
    before = figures(marts, since - timedelta(days=days), since - timedelta(days=1))
    assert now["n"] > 0 and before["n"] > 0 and now["unpriced"] > 0

    # the known part as the value, the unpriced attempts in the label: a card never cuts it
    spend_label = f"Spend (+ {int(now['unpriced']):,} unpriced attempts)"
    assert metric(at, spend_label) == ui.usd(float(now["spend"]))
    assert card(at, "Spend").delta == pct_change(float(now["spend"]), float(before["spend"]))
    assert metric(at, "Logical requests") == f"{now['n']:,}"
    assert card(at, "Logical requests").delta == pct_change(now["n"], before["n"])
    value, coverage, reason = cost_per_success(now)
    assert value is None  # the demo's unpriced task keeps the coverage under 80%
    label, shown, why = cost_card(value, coverage, reason)
    assert (metric(at, label), card(at, label).delta) == (shown, why)
    assert card(at, label).proto.delta_description == ""  # nothing compared
    assert metric(at, "Success rate") == ui.pct(now["ok"] / now["n"])
    assert card(at, "Success rate").delta in (
        pp_change(now["ok"] / now["n"], before["ok"] / before["n"]),
        "no change",
    )
    assert metric(at, "P95 latency") == ui.ms(now["p95"])
    assert card(at, "P95 latency").delta == pct_change(now["p95"], before["p95"])
    for label, col in (("Retry rate", "retried"), ("Fallback rate", "fell_back")):
        assert metric(at, label) == ui.pct(now[col] / now["n"])
        assert card(at, label).delta == pp_change(now[col] / now["n"], before[col] / before["n"])
    assert f"against the {days} before" in " ".join(c.value for c in at.caption)
    # a rise in spend or latency is red (inverse), a fall in success too; requests neutral
    assert card(at, "P95 latency").proto.delta_description == f"vs the {days} days before"


def test_a_known_cost_per_success_and_its_delta(
    dashboard_home: Path, marts: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the unpriced task (triage runs on acme-large, which has no price) the coverage
    reaches the threshold and the cost per success is a figure with a delta."""
    at = open_app(dashboard_home, monkeypatch)
    tasks = ["summarize", "extract", "code-review", "chat"]
    at.multiselect(key="rl_tasks").set_value(tasks).run()
    assert_clean(at)
    since, until = window(at)
    days = (until - since).days + 1

    def known(a: date, b: date) -> tuple[float | None, float, str | None]:
        sql = REQUESTS_SQL.replace("WHERE local_day", "WHERE list_contains(?, task) AND local_day")
        cur = marts.execute(sql, [tasks, a, b])
        names = [d[0] for d in cur.description]
        return cost_per_success(dict(zip(names, cur.fetchone(), strict=True)))

    now = known(since, until)
    before = known(since - timedelta(days=days), since - timedelta(days=1))
    assert now[0] is not None and before[0] is not None
    label, shown, _ = cost_card(*now)
    assert metric(at, label) == shown
    assert card(at, label).delta == pct_change(now[0], before[0])


def test_no_data_before_says_so_instead_of_new(
    dashboard_home: Path, marts: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = marts.execute("SELECT min(local_day) FROM logical_requests").fetchone()[0]
    at = open_app(dashboard_home, monkeypatch)
    at.date_input(key=ui.DATES_KEY).set_value((first, first + timedelta(days=5))).run()
    assert_clean(at)
    for label in ("Spend", "Logical requests", "Success rate", "P95 latency", "Retry rate"):
        m = card(at, label)
        assert m.delta == "no data before", label
        assert (m.proto.color, m.proto.direction) == (GRAY, NO_ARROW), label  # not a red "new"
    # the first days of the data: the month before and the week before hold nothing either
    for label in ("This month so far", "This week so far"):
        m = card(at, label)
        assert m.delta == "no data before", label
        assert (m.proto.color, m.proto.direction) == (GRAY, NO_ARROW), label
    assert "new" not in {m.delta for m in at.metric}


def test_a_model_filter_compares_the_models_own_attempts(
    dashboard_home: Path, marts: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on the Cost page: a model filter selects attempts; the headline is theirs."""
    at = open_app(dashboard_home, monkeypatch)
    at.multiselect(key="rl_models").set_value(["gpt-4o-mini"]).run()
    assert_clean(at)
    since, until = window(at)
    days = (until - since).days + 1
    sql = """
    SELECT count(*), sum(cost_usd), count(*) FILTER (WHERE status = 'success'),
        count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM attempts n WHERE n.logical_request_id = a.logical_request_id
              AND n.attempt_index = a.attempt_index + 1 AND n.model <> a.model))
    FROM attempts a WHERE model = 'gpt-4o-mini' AND local_day BETWEEN ? AND ?
    """
    n, spend, ok, fell = marts.execute(sql, [since, until]).fetchone()
    n0, spend0, _, fell0 = marts.execute(
        sql, [since - timedelta(days=days), since - timedelta(days=1)]
    ).fetchone()
    assert metric(at, "Attempts") == f"{n:,}"
    assert card(at, "Attempts").delta == pct_change(n, n0)
    assert metric(at, "Spend") == money.spend_text(spend, 0)
    assert card(at, "Spend").delta == pct_change(float(spend), float(spend0))
    assert metric(at, "Attempt success rate") == ui.pct(ok / n)
    assert 0 < fell < n
    assert metric(at, "Fallback share") == ui.pct(fell / n)
    assert card(at, "Fallback share").delta == pp_change(fell / n, fell0 / n0)
    assert "Logical requests" not in {m.label for m in at.metric}
