"""The small demo, ingested through the real collectors, shows every story the demo tells."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb

from app.demo import build, spec
from collectors.prices import naming
from tests.demo.conftest import NOW


def _naive(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def test_everything_ingests_cleanly(demo: build.BuildResult) -> None:
    ing = demo.ingested
    assert ing["failed_files"] == []
    assert ing["quarantined"] == 0 and ing["quarantined_by_reason"] == {}
    weeks = {d.isocalendar()[:2] for d in spec.window(NOW).days}
    assert ing["files"] == demo.generated["files"] == 2 * len(weeks)  # LiteLLM + OTel per week
    assert (
        ing["attempts_loaded"] == demo.generated["gateway_attempts"] + demo.generated["otel_spans"]
    )
    assert ing["logical_requests"] == demo.generated["requests"] == 3000


def test_models_providers_tasks_and_teams(wh: duckdb.DuckDBPyConnection) -> None:
    models, providers = wh.execute(
        "SELECT count(DISTINCT served_model), count(DISTINCT provider) FROM attempts"
    ).fetchone()
    assert models >= 8 and providers >= 5
    tasks = {r[0] for r in wh.execute("SELECT DISTINCT task FROM logical_requests").fetchall()}
    assert tasks == {"boilerplate", "debugging", "algorithm", "review", "architecture", "unlabeled"}
    teams = wh.execute(
        "SELECT count(DISTINCT team), count(DISTINCT key_hash) FROM attempts"
    ).fetchone()
    assert 3 <= teams[0] <= 5 and teams[1] >= teams[0]


def test_retries_fallbacks_and_failures(wh: duckdb.DuckDBPyConnection) -> None:
    retried, fell_back, failed, n = wh.execute(
        "SELECT count(*) FILTER (WHERE retried), count(*) FILTER (WHERE fell_back), "
        "count(*) FILTER (WHERE NOT succeeded), count(*) FROM logical_requests"
    ).fetchone()
    assert retried > fell_back > 0
    assert 0 < failed < 0.02 * n  # a few requests fail for good (bad requests, exhausted chains)
    retried_same = wh.execute(
        "SELECT count(*) FROM logical_requests WHERE retried AND NOT fell_back AND attempts > 1"
    ).fetchone()[0]
    assert retried_same > 0  # retried on the same model, not only fallbacks


def test_gateway_requests_follow_the_manifest_chains(wh: duckdb.DuckDBPyConnection) -> None:
    routing = spec.routing()
    # the marts name models canonically: the gateway's gemini/gemini-2.5-pro is gemini-2.5-pro
    by_model = {naming.identity(None, model).model: name for name, model in routing.models.items()}
    rows = wh.execute(
        "SELECT task, chain FROM logical_requests WHERE first_provider <> 'acme' "
        "AND first_model NOT LIKE 'gpt-4o-mini-%'"
    ).fetchall()
    assert rows
    for task, chain in rows:
        names = [by_model[m] for m in chain]
        distinct = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
        assert tuple(distinct) == routing.chains[task][: len(distinct)], (task, chain)


def test_rate_limit_storm_on_one_provider(
    wh: duckdb.DuckDBPyConnection, incidents: spec.Incidents
) -> None:
    start, end = _naive(incidents.storm_start), _naive(incidents.storm_end)
    in_window = dict(
        wh.execute(
            "SELECT provider, count(*) FROM attempts WHERE error_class = 'rate_limit' "
            "AND started_at >= ? AND started_at < ? GROUP BY provider",
            [start, end],
        ).fetchall()
    )
    assert max(in_window, key=in_window.__getitem__) == "anthropic"
    assert in_window["anthropic"] >= 0.8 * sum(in_window.values())
    inside, outside = wh.execute(
        "SELECT avg((coalesce(error_class, '') = 'rate_limit')::INT) FILTER (WHERE started_at >= ? AND started_at < ?), "
        "avg((coalesce(error_class, '') = 'rate_limit')::INT) FILTER (WHERE started_at < ? OR started_at >= ?) "
        "FROM attempts WHERE provider = 'anthropic'",
        [start, end, start, end],
    ).fetchone()
    assert inside >= 0.25 and outside < 0.02, (inside, outside)
    fell_back = wh.execute(
        "SELECT count(*) FROM logical_requests WHERE fell_back AND first_provider = 'anthropic' "
        "AND started_at >= ? AND started_at < ?",
        [start, end],
    ).fetchone()[0]
    assert fell_back > 0


def test_latency_regression(wh: duckdb.DuckDBPyConnection, incidents: spec.Incidents) -> None:
    cut = _naive(incidents.slow_from)
    before, after, n_before, n_after = wh.execute(
        "SELECT quantile_cont(latency_ms, 0.95) FILTER (WHERE started_at < ?), "
        "quantile_cont(latency_ms, 0.95) FILTER (WHERE started_at >= ?), "
        "count(*) FILTER (WHERE started_at < ?), count(*) FILTER (WHERE started_at >= ?) "
        "FROM attempts WHERE served_model = 'gemini/gemini-2.5-pro' AND status = 'success'",
        [cut, cut, cut, cut],
    ).fetchone()
    assert n_before > 50 and n_after > 50
    assert after >= 1.5 * before, (before, after)
    other = wh.execute(
        "SELECT quantile_cont(latency_ms, 0.95) FILTER (WHERE started_at >= ?) / "
        "quantile_cont(latency_ms, 0.95) FILTER (WHERE started_at < ?) "
        "FROM attempts WHERE served_model = 'anthropic/claude-sonnet-4-5' AND status = 'success'",
        [cut, cut],
    ).fetchone()[0]
    assert 0.7 < other < 1.4  # only the one model regressed


def test_price_cut_is_a_recorded_price_change(
    wh: duckdb.DuckDBPyConnection, incidents: spec.Incidents
) -> None:
    changes = wh.execute(
        "SELECT source, changed_at, prev_input_per_mtok, input_per_mtok, prev_output_per_mtok, "
        "output_per_mtok FROM price_changes WHERE provider = 'google' "
        "AND model_id = 'gemini-2.5-flash' AND source = 'openrouter'"
    ).fetchall()
    assert len(changes) == 1
    _, changed_at, in0, in1, out0, out1 = changes[0]
    assert changed_at == _naive(incidents.cut_at)
    assert in1 / in0 == Decimal("0.8") and out1 / out0 == Decimal("0.8")
    # each attempt is priced at the version in force when it started
    inp, cached, _, out = next(m.prices for m in spec.MODELS if m.name == incidents.cut_model)
    ratios = dict(
        wh.execute(
            "SELECT started_at >= ? AS after, "
            "round(sum(computed_cost_usd) / sum(fresh_input_tokens * ? + cache_read_tokens * ? "
            "+ output_tokens * ?) * 1e6, 6) FROM attempts "
            "WHERE served_model = 'gemini/gemini-2.5-flash' AND cost_basis = 'computed' "
            "AND status = 'success' GROUP BY 1",
            [_naive(incidents.cut_at), inp, cached, out],
        ).fetchall()
    )
    assert ratios == {False: 1.0, True: 0.8}
    status = wh.execute(
        "SELECT status, models FROM price_source_status WHERE source = 'openrouter'"
    ).fetchone()
    assert status == ("ok", len(build.OPENROUTER_IDS))


def test_exactly_one_unpriced_model(wh: duckdb.DuckDBPyConnection) -> None:
    rows = wh.execute("SELECT provider, model, attempts FROM unpriced_usage").fetchall()
    assert [(p, m) for p, m, _ in rows] == [("acme", "acme-coder-7b")]
    assert rows[0][2] > 0


def test_gateway_models_are_computed_from_the_price_history(
    wh: duckdb.DuckDBPyConnection,
) -> None:
    rows = wh.execute(
        "SELECT served_model, cost_basis, any_value(price_source), count(*) FROM attempts "
        "WHERE provider <> 'acme' GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    # refused failures (429, bad request, ...) are not billed under the default policy
    assert {basis for _, basis, _, _ in rows} == {"computed", "cache_hit", "not_billed"}
    sources = {m: src for m, basis, src, _ in rows if basis == "computed"}
    assert sources["deepseek/deepseek-chat"] == "catalog"  # catalog-only models
    assert sources["mistral/mistral-large-latest"] == "catalog"
    assert sources["anthropic/claude-sonnet-4-5"] == "openrouter"  # the demo's daily feed
    spend = wh.execute("SELECT sum(cost_usd) FROM attempts WHERE provider <> 'acme'").fetchone()[0]
    assert spend > 0


def test_gateway_cost_drift_is_visible(wh: duckdb.DuckDBPyConnection) -> None:
    """The gateway's own map lags the price cut and ignores DeepSeek's off-peak hours."""
    flagged = {r[0] for r in wh.execute("SELECT model FROM cost_discrepancies").fetchall()}
    assert flagged == {"gemini-2.5-flash", "deepseek-chat"}  # canonical names


def test_a_glitch_in_the_price_feed_is_held_for_review(
    wh: duckdb.DuckDBPyConnection, incidents: spec.Incidents
) -> None:
    held = wh.execute(
        "SELECT source, kind, status FROM price_reviews WHERE model_id = ?",
        [incidents.glitch_model],
    ).fetchall()
    assert held == [("openrouter", "price_jump", "pending")]
    versions = wh.execute(
        "SELECT count(*), max(output_per_mtok) FROM price_versions WHERE source = 'openrouter' "
        "AND model_id = ?",
        [incidents.glitch_model],
    ).fetchone()
    assert versions == (1, Decimal("10"))  # the last known price stays in force
