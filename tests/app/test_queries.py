"""The dashboard's filtered queries agree with the marts' own definitions when nothing is
filtered, filter by bound values only, and never load raw attempts into pandas."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from app import queries
from app.queries import Filters

ALL = (date(2000, 1, 1), date(2100, 1, 1))


@pytest.fixture
def con(dashboard_home: Path):  # type: ignore[no-untyped-def]
    c = duckdb.connect(str(dashboard_home / "warehouse.duckdb"), read_only=True)
    yield c
    c.close()


def test_task_cost_unfiltered_is_the_task_stats_mart(con: duckdb.DuckDBPyConnection) -> None:
    mart = {r["task"]: r for r in queries.task_stats(con, *ALL)}
    shown = queries.task_cost(con, Filters(*ALL)).to_dict("records")
    assert {r["task"] for r in shown} == set(mart)
    for row in shown:
        want = mart[row["task"]]
        for key in queries.TASK_FIELDS:
            got, exp = row[key], queries.json_scalar(want[key])
            assert got == pytest.approx(exp, nan_ok=True) if exp is not None else got != got, key


def test_model_task_cost_unfiltered_is_the_model_task_stats_mart(
    con: duckdb.DuckDBPyConnection,
) -> None:
    mart = {(r["provider"], r["model"], r["task"]): r for r in queries.model_task_stats(con, *ALL)}
    shown = queries.model_task_cost(con, Filters(*ALL)).to_dict("records")
    assert len(shown) == len(mart)
    for row in shown:
        want = mart[(row["provider"], row["model"], row["task"])]
        for key in ("attempts", "successes", "spend_usd", "cost_per_success_usd",
                    "success_rate_low", "unpriced_attempts"):  # fmt: skip
            exp = queries.json_scalar(want[key])
            if exp is None:  # unpriced: NULL in the mart, NaN in the frame, never 0
                assert row[key] is None or row[key] != row[key], key
            else:
                assert row[key] == pytest.approx(exp), key


def test_a_model_filter_keeps_requests_that_used_the_model_anywhere(
    con: duckdb.DuckDBPyConnection,
) -> None:
    f = Filters(*ALL, models=("claude-3-haiku",))
    (expected,) = con.execute(
        "SELECT count(*) FROM logical_requests WHERE list_contains(chain, 'claude-3-haiku')"
    ).fetchone()
    got = queries.task_cost(con, f)["logical_requests"].sum()
    assert got == expected > 0
    (first_only,) = con.execute(
        "SELECT count(*) FROM logical_requests WHERE first_model = 'claude-3-haiku'"
    ).fetchone()
    assert first_only < expected  # it is mostly a fallback in the fixture


def test_a_missing_team_is_filtered_as_none(con: duckdb.DuckDBPyConnection) -> None:
    (n,) = con.execute("SELECT sum(attempts) FROM spend_per_day WHERE team IS NULL").fetchone()
    got = queries.unpriced_share(con, Filters(*ALL, teams=("(none)",)))["attempts"]
    assert got == n > 0


def test_filter_values_are_bound_not_spliced(con: duckdb.DuckDBPyConnection) -> None:
    hostile = ("x') OR 1=1 --", "'; DROP TABLE attempts; --")
    f = Filters(*ALL, providers=hostile, models=hostile, tasks=hostile, teams=hostile)
    assert queries.spend_over_time(con, f, "model").empty
    assert queries.task_cost(con, f).empty
    assert queries.current_prices(con, f, search="%' OR '1'='1", used_only=False).empty
    with pytest.raises(ValueError):
        queries.spend_over_time(con, Filters(*ALL), "model; DROP TABLE attempts")


def test_a_price_search_treats_wildcards_literally(con: duckdb.DuckDBPyConnection) -> None:
    everything = queries.current_prices(con, Filters(*ALL), search="", used_only=False)
    assert not everything.empty
    assert queries.current_prices(con, Filters(*ALL), search="%", used_only=False).empty
    some = queries.current_prices(con, Filters(*ALL), search="gpt-4o", used_only=False)
    assert 0 < len(some) < len(everything)
    assert some["model_id"].str.contains("gpt-4o", regex=False).all()


def test_dashboard_queries_read_aggregates_not_raw_attempts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    (attempts,) = con.execute("SELECT count(*) FROM attempts").fetchone()
    f = Filters(*ALL)
    for frame in (
        queries.spend_over_time(con, f, "model"),
        queries.latency_over_time(con, f, "model_task"),
        queries.latency_distribution(con, f, ["gpt-4o", "gpt-4o-mini"], 5000.0),
        queries.reliability_by_day(con, f),
        queries.error_classes(con, f),
    ):
        assert 0 < len(frame) < attempts / 4
