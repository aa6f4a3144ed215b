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
    shown = queries.split_total(queries.task_cost(con, Filters(*ALL), with_total=True))[0].to_dict(
        "records"
    )
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


def test_the_request_view_keeps_requests_that_used_the_model_anywhere(
    con: duckdb.DuckDBPyConnection,
) -> None:
    f = Filters(*ALL, models=("claude-3-haiku",), grain="request")
    (expected,) = con.execute(
        "SELECT count(*) FROM logical_requests WHERE list_contains(chain, 'claude-3-haiku')"
    ).fetchone()
    got = queries.split_total(queries.task_cost(con, f, with_total=True))[1]["logical_requests"]
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


# -- the provider and model filters select attempts (issue 14, item 4) ----------------------------

OWN_ATTEMPTS = """
    SELECT count(*), count(*) FILTER (WHERE followed_by_another), sum(cost_usd),
        count(*) FILTER (WHERE status = 'success')
    FROM attempts WHERE {where}
"""


def test_a_provider_filter_gives_its_own_attempts_retry_share(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Retry share under Provider = openai is the share of openai's attempts followed by
    another attempt, not the retry rate of every request that touched openai."""
    f = Filters(*ALL, providers=("openai",))
    assert f.per_attempt
    n, followed, _, _ = con.execute(OWN_ATTEMPTS.format(where="provider = 'openai'")).fetchone()
    daily = queries.attempt_reliability_by_day(con, f)
    assert (daily["attempts"].sum(), daily["followed_by_another"].sum()) == (n, followed)
    share = daily["followed_by_another"].sum() / daily["attempts"].sum()
    assert share == pytest.approx(followed / n)
    assert 0 < share < 0.5
    # the request-level view (still there, whole requests) counts something else
    requests = queries.reliability_by_day(con, f._replace(grain="request"))
    whole = (requests["retry_rate"] * requests["requests"]).sum() / requests["requests"].sum()
    (expected,) = con.execute(
        "SELECT avg(retried::INTEGER) FROM logical_requests "
        "WHERE first_provider = 'openai' OR final_provider = 'openai'"
    ).fetchone()
    assert whole == pytest.approx(expected) and whole != pytest.approx(share)


def test_a_model_and_task_filter_gives_the_models_own_spend(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Model = claude-3-haiku (mostly a fallback) with Task = summarize: the task's spend is
    the model's attempts only, and agrees with the spend mart (Overview's figures)."""
    f = Filters(*ALL, models=("claude-3-haiku",), tasks=("summarize",))
    n, _, spend, ok = con.execute(
        OWN_ATTEMPTS.format(where="served_model = 'claude-3-haiku' AND task = 'summarize'")
    ).fetchone()
    (row,) = queries.split_total(queries.task_attempt_cost(con, f, with_total=True))[0].to_dict(
        "records"
    )
    assert (row["task"], row["attempts"], row["successes"]) == ("summarize", n, ok)
    assert row["spend_usd"] == pytest.approx(float(spend))
    assert row["cost_per_success_usd"] == pytest.approx(float(spend) / ok)
    assert queries.spend_by_day(con, f)["spend_usd"].sum() == pytest.approx(float(spend))
    (whole,) = con.execute(
        "SELECT sum(cost_usd) FROM logical_requests "
        "WHERE list_contains(chain, 'claude-3-haiku') AND task = 'summarize'"
    ).fetchone()
    (others,) = con.execute(  # the gpt-4o-mini attempts before the fallback
        "SELECT sum(cost_usd) FROM attempts WHERE served_model <> 'claude-3-haiku' "
        "AND logical_request_id IN (SELECT logical_request_id FROM logical_requests "
        "WHERE list_contains(chain, 'claude-3-haiku') AND task = 'summarize')"
    ).fetchone()
    assert float(whole) == pytest.approx(float(spend) + float(others)) and others > 0
    (requested,) = queries.task_cost(con, f._replace(grain="request")).to_dict("records")
    assert requested["spend_usd"] == pytest.approx(float(whole))


def test_without_a_provider_or_model_filter_attempts_and_requests_agree(
    con: duckdb.DuckDBPyConnection,
) -> None:
    f = Filters(*ALL, tasks=("extract",))
    assert not f.per_attempt and not f._replace(grain="request").per_attempt
    by_attempt = queries.task_attempt_cost(con, f).iloc[0]
    by_request = queries.task_cost(con, f).iloc[0]
    assert by_attempt["spend_usd"] == pytest.approx(by_request["spend_usd"])
    assert by_attempt["logical_requests"] == by_request["logical_requests"]
    with pytest.raises(ValueError):
        _ = Filters(*ALL, models=("x",), grain="session").per_attempt


def test_fallbacks_from_a_model_are_its_attempts_followed_by_another_model(
    con: duckdb.DuckDBPyConnection,
) -> None:
    f = Filters(*ALL, models=("gpt-4o-mini",))
    expected = con.execute(
        """
        SELECT n.served_model, count(*) FROM attempts a JOIN attempts n
          ON n.logical_request_id = a.logical_request_id AND n.attempt_index = a.attempt_index + 1
        WHERE a.served_model = 'gpt-4o-mini' AND n.served_model <> 'gpt-4o-mini'
        GROUP BY 1
        """
    ).fetchall()
    got = queries.fallbacks_from(con, f)
    assert set(got["from_model"]) == {"gpt-4o-mini"}
    assert dict(zip(got["to_model"], got["attempts"], strict=True)) == dict(expected)
    assert expected
