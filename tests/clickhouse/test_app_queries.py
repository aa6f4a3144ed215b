"""Every read query function of the app (the dashboard's and CLI's ``app/queries.py``, the tuner's
and the report's) gives the same result on ClickHouse through :class:`Reader` as on DuckDB, over
the dashboard fixture warehouse: rows in order (sorted where the SQL does not order), money
exactly, floats to 1e-9 relative, NULL for NULL, the same columns and kinds of dtype.

The functions are discovered: a new public function taking ``con`` must get a case here or a
reason in :data:`SKIPPED`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from app import queries as q
from app.reports import queries as rq
from app.tuner import evidence
from app.tuner import queries as tq
from collectors.warehouse.clickhouse.reader import Reader
from tests.clickhouse import parity

MODULES: tuple[ModuleType, ...] = (q, tq, rq)
UNTIL = date(2026, 10, 20)  # the fixture's last day (tests/app/warehouse_fixture.build)
SINCE = UNTIL - timedelta(days=55)
ALL = q.Filters(SINCE, UNTIL)
SOME = q.Filters(
    UNTIL - timedelta(days=20),
    UNTIL,
    providers=("openai", "anthropic"),
    models=("gpt-4o-mini", "claude-3-haiku", "gpt-4o"),
    tasks=("summarize", "extract", "chat"),
    teams=("search", "(none)"),
)
WHOLE = SOME._replace(grain="request")
SHORT = q.Filters(UNTIL - timedelta(days=1), UNTIL)  # hourly charts
TZ = "Europe/Berlin"
WEEK = (UNTIL - timedelta(days=6), UNTIL)
PREV = (UNTIL - timedelta(days=13), UNTIL - timedelta(days=7))
AT = datetime(2026, 10, 1, 12, tzinfo=UTC)
FILTERS = {"all": ALL, "some": SOME, "whole": WHOLE, "short": SHORT}

Call = Callable[[Any], Any]


def _each(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Call]:
    """``fn(con, f, *args)`` for every Filters of :data:`FILTERS`."""
    return {k: (lambda con, f=f: fn(con, f, *args, **kwargs)) for k, f in FILTERS.items()}


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


_NARROW = {
    "none": q.Narrowing(),
    "failed": q.Narrowing(status="failed", retried="yes"),
    "class": q.Narrowing(error_class="rate_limit", hour=14),
}
_FIRST_ID = "SELECT logical_request_id FROM logical_requests WHERE attempts > 1 ORDER BY 1 LIMIT 1"

# name -> variant -> call; every function of MODULES taking `con` is here or in SKIPPED.
CASES: dict[str, dict[str, Call]] = {
    "app.queries.task_stats": {"window": lambda c: q.task_stats(c, SINCE, UNTIL)},
    "app.queries.model_task_stats": {"window": lambda c: q.model_task_stats(c, SINCE, UNTIL)},
    "app.queries.unpriced_attempts": {"window": lambda c: q.unpriced_attempts(c, SINCE, UNTIL)},
    "app.queries.data_span": {"": q.data_span},
    "app.queries.warehouse_state": {"": q.warehouse_state},
    "app.queries.filter_options": {"": q.filter_options},
    "app.queries.period_spend": {
        k: (
            lambda c, f=f: q.period_spend(
                c,
                f,
                _monday(UNTIL),
                _monday(UNTIL) - timedelta(7),
                UNTIL.replace(day=1),
                date(2026, 9, 1),
            )
        )
        for k, f in FILTERS.items()
    },
    "app.queries.spend_over_time": {
        **_each(q.spend_over_time, "provider"),
        "team": lambda c: q.spend_over_time(c, ALL, "team"),
    },
    "app.queries.top_movers": _each(
        q.top_movers, "model", _monday(UNTIL), _monday(UNTIL) - timedelta(7)
    ),
    "app.queries.spend_by_day": _each(q.spend_by_day),
    "app.queries.attempt_fallbacks": _each(q.attempt_fallbacks),
    "app.queries.unpriced_share": _each(q.unpriced_share),
    "app.queries.model_task_cost": _each(q.model_task_cost),
    "app.queries.task_cost": _each(q.task_cost, with_total=True),
    "app.queries.task_attempt_cost": _each(q.task_attempt_cost, with_total=True),
    "app.queries.latency_over_time": {
        **_each(q.latency_over_time, "model"),
        "ttft": lambda c: q.latency_over_time(c, ALL, "model_task", "ttft_p95"),
    },
    "app.queries.latency_summary": _each(q.latency_summary),
    "app.queries.latency_distribution": _each(
        q.latency_distribution, ["gpt-4o-mini", "claude-3-haiku"], 4000.0
    ),
    "app.queries.latency_box": _each(q.latency_box, ["gpt-4o-mini", "deepseek-chat"]),
    "app.queries.reliability_by_day": _each(q.reliability_by_day),
    "app.queries.attempt_reliability_by_day": _each(q.attempt_reliability_by_day),
    "app.queries.reliability_over_time": _each(q.reliability_over_time, TZ),
    "app.queries.attempt_reliability_over_time": _each(q.attempt_reliability_over_time, TZ),
    "app.queries.error_classes": _each(q.error_classes),
    "app.queries.fallback_flows": _each(q.fallback_flows),
    "app.queries.fallbacks_from": _each(q.fallbacks_from),
    "app.queries.failed_spend": _each(q.failed_spend),
    "app.queries.incidents": _each(q.incidents),
    "app.queries.incident_alerts_due": {"": lambda c: q.incident_alerts_due(c, 3)},
    "app.queries.current_prices": {
        **_each(q.current_prices),
        "search": lambda c: q.current_prices(c, ALL, "gpt_4%", False),
    },
    "app.queries.price_history": {"": lambda c: q.price_history(c, "openai", "gpt-4o")},
    "app.queries.price_changes": {
        **_each(q.price_changes),
        "search": lambda c: q.price_changes(c, ALL, "o'", False),
    },
    "app.queries.pending_reviews": {"": q.pending_reviews},
    "app.queries.unpriced_models": _each(q.unpriced_models),
    "app.queries.loads_by_source": {"": q.loads_by_source},
    "app.queries.recent_loads": {"": q.recent_loads},
    "app.queries.quarantine_by_reason": {"": q.quarantine_by_reason},
    "app.queries.quarantine_samples": {"": q.quarantine_samples},
    "app.queries.freshness": {"": q.freshness},
    "app.queries.price_sources": {"": q.price_sources},
    "app.queries.remote_sources": {"": q.remote_sources},
    "app.queries.job_runs": {"": q.job_runs},
    "app.queries.report_deliveries": {"": q.report_deliveries},
    "app.queries.budget_alerts": {"": q.budget_alerts},
    "app.queries.explorer_summary": {
        f"{k}-{n}": (lambda c, f=f, m=m: q.explorer_summary(c, f, m, TZ))
        for k, f in FILTERS.items()
        for n, m in _NARROW.items()
    },
    "app.queries.explorer_requests": {
        f"{k}-{n}": (lambda c, f=f, m=m: q.explorer_requests(c, f, m, TZ, page=2, page_size=20))
        for k, f in FILTERS.items()
        for n, m in _NARROW.items()
    },
    "app.queries.explorer_over_time": {
        f"{k}-{n}": (lambda c, f=f, m=m: q.explorer_over_time(c, f, m, TZ))
        for k, f in FILTERS.items()
        for n, m in _NARROW.items()
    },
    "app.queries.request_attempts": {
        "id": lambda c: q.request_attempts(c, c.execute(_FIRST_ID).fetchall()[0][0]),
        "since": lambda c: q.request_attempts(c, c.execute(_FIRST_ID).fetchall()[0][0], SINCE),
    },
    "app.queries.token_totals": _each(q.token_totals),
    "app.queries.tokens_over_time": _each(q.tokens_over_time),
    "app.queries.cache_rate_over_time": _each(q.cache_rate_over_time),
    "app.queries.tokens_by": {
        **_each(q.tokens_by, "model"),
        "task": lambda c: q.tokens_by(c, SOME, "task"),
    },
    "app.queries.output_caps": _each(q.output_caps, (("summarize", 300), ("chat", 500))),
    "app.queries.spend_by": {
        **{b: (lambda c, b=b: q.spend_by(c, ALL, b)) for b in q.SPEND_BY},
        **{
            f"{b}-{k}": (lambda c, b=b, f=f: q.spend_by(c, f, b, limit=3))
            for b in ("key", "user")
            for k, f in FILTERS.items()
        },
    },
    "app.queries.bill_drift_days": {"": lambda c: q.bill_drift_days(c, SINCE, UNTIL)},
    "app.queries.bill_days": {"": lambda c: q.bill_days(c, SINCE, UNTIL, ("openai",))},
    "app.queries.bill_models": {"": lambda c: q.bill_models(c, SINCE, UNTIL)},
    "app.queries.bill_origins": {"": lambda c: q.bill_origins(c, SINCE, UNTIL)},
    "app.queries.bill_classes": {"": lambda c: q.bill_classes(c, SINCE, UNTIL)},
    "app.queries.bill_span": {"": q.bill_span},
    "app.tuner.queries.patterns": {"": lambda c: tq.patterns(c, SINCE, UNTIL)},
    "app.tuner.queries.stage_costs": {"": lambda c: tq.stage_costs(c, SINCE, UNTIL)},
    "app.tuner.queries.attempt_stats": {"": lambda c: tq.attempt_stats(c, SINCE, UNTIL)},
    "app.tuner.queries.has_table": {
        "yes": lambda c: tq.has_table(c, "attempts"),
        "no": lambda c: tq.has_table(c, "x'y"),
    },
    "app.tuner.queries.eval_scores": {"": tq.eval_scores},
    "app.tuner.queries.current_price": {
        "": lambda c: tq.current_price(c, "openai", "gpt-4o-mini", AT)
    },
    "app.tuner.queries.last_day": {"": tq.last_day},
    "app.tuner.queries.versions": {"": lambda c: tq.versions(c, "routing.yaml")},
    "app.tuner.queries.decisions": {"": lambda c: tq.decisions(c, "routing.yaml")},
    "app.tuner.queries.next_version": {"": lambda c: tq.next_version(c, "routing.yaml")},
    "app.tuner.queries.model_drift": {
        "": lambda c: tq.model_drift(c, "summarize", AT - timedelta(20), AT)
    },
    "app.tuner.queries.approval": {"": lambda c: tq.approval(c, "routing.yaml")},
    "app.tuner.queries.actuals": {"": lambda c: tq.actuals(c, "summarize", AT)},
    "app.tuner.evidence.collect": {"": lambda c: evidence.collect(c, SINCE, UNTIL)},
    "app.reports.queries.totals": {"": lambda c: rq.totals(c, SINCE, UNTIL)},
    "app.reports.queries.spend_by": {
        d: (lambda c, d=d: rq.spend_by(c, d, WEEK, PREV)) for d in ("model", "task", "team")
    },
    "app.reports.queries.p95_by_model": {"": lambda c: rq.p95_by_model(c, WEEK, PREV)},
    "app.reports.queries.error_rates": {
        d: (lambda c, d=d: rq.error_rates(c, d, WEEK, PREV)) for d in ("model", "task")
    },
    "app.reports.queries.error_classes": {"": lambda c: rq.error_classes(c, WEEK, PREV)},
    "app.reports.queries.price_changes": {
        "": lambda c: rq.price_changes(c, AT - timedelta(days=90), AT + timedelta(days=30))
    },
    "app.reports.queries.unpriced": {"": lambda c: rq.unpriced(c, SINCE, UNTIL)},
    "app.reports.queries.spend_drivers": {"": lambda c: rq.spend_drivers(c, WEEK, PREV)},
    "app.reports.queries.month_spend": {"": lambda c: rq.month_spend(c, date(2026, 10, 1), UNTIL)},
    "app.reports.queries.alert_keys": {"": lambda c: rq.alert_keys(c, date(2026, 10, 1))},
    "app.reports.queries.alerts_to_send": {
        "": lambda c: rq.alerts_to_send(c, date(2026, 10, 1), 3)
    },
    "app.reports.queries.delivered_channels": {"": lambda c: rq.delivered_channels(c, "2026-W42")},
    "app.reports.queries.bill_days": {"": lambda c: rq.bill_days(c, SINCE, UNTIL)},
    "app.reports.queries.bill_week": {"": lambda c: rq.bill_week(c, SINCE, UNTIL)},
    "app.reports.queries.bill_drifts": {"": lambda c: rq.bill_drifts(c, SINCE, 0.01, 0.0)},
    "app.reports.queries.bill_alerts_to_send": {"": lambda c: rq.bill_alerts_to_send(c, 3)},
}

# Functions taking `con` that are not compared, each with its reason.
SKIPPED: dict[str, str] = {
    "app.queries.claim_incidents": "writes (INSERT INTO incident_alerts ... ON CONFLICT)",
    "app.queries.finish_incident_alerts": "writes (UPDATE incident_alerts)",
    "app.tuner.queries.ensure_tables": "writes (creates the tuner's tables through migrate)",
    "app.reports.queries.insert_alert": "writes (INSERT INTO budget_alerts)",
    "app.reports.queries.finish_alert": "writes (UPDATE budget_alerts)",
    "app.reports.queries.record_delivery": "writes (INSERT INTO report_deliveries)",
    "app.reports.queries.insert_bill_alert": "writes (INSERT INTO bill_alerts)",
    "app.reports.queries.finish_bill_alerts": "writes (UPDATE bill_alerts)",
}

# Functions whose SQL does not order its rows, or not totally (compared sorted).
UNORDERED = {
    "app.queries.current_prices",  # a source's peak and off-peak rows tie on every ORDER BY key
    "app.tuner.queries.patterns",
    "app.tuner.queries.stage_costs",
    "app.tuner.queries.attempt_stats",
    "app.tuner.queries.model_drift",
    "app.tuner.queries.eval_scores",
}

# Functions not at parity yet, and why (strict: a fix must remove the entry).
KNOWN_GAPS: dict[str, str] = {}

# Functions with nothing to compare on either warehouse (see the last test): no provider bills,
# no prompt-cache reads, no alert, delivery, job run, remote source or tuner state in either.
EMPTY_IN_BOTH = {
    *("app.queries.bill_classes", "app.queries.bill_days", "app.queries.bill_drift_days"),
    *("app.queries.bill_models", "app.queries.bill_origins", "app.queries.budget_alerts"),
    *("app.queries.cache_rate_over_time", "app.queries.incident_alerts_due"),
    *("app.queries.job_runs", "app.queries.remote_sources", "app.queries.report_deliveries"),
    *("app.reports.queries.alert_keys", "app.reports.queries.alerts_to_send"),
    *("app.reports.queries.bill_alerts_to_send", "app.reports.queries.bill_days"),
    *("app.reports.queries.bill_week", "app.reports.queries.delivered_channels"),
    *("app.tuner.queries.approval", "app.tuner.queries.decisions"),
    *("app.tuner.queries.eval_scores", "app.tuner.queries.versions"),
}


def _discovered() -> list[str]:
    out = []
    for module in (*MODULES, evidence):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params[:1] == ["con"] and (module is not evidence or name == "collect"):
                out.append(f"{module.__name__}.{name}")
    return sorted(out)


def test_every_read_function_is_compared_or_skipped_with_a_reason() -> None:
    found = set(_discovered())
    assert found - CASES.keys() - SKIPPED.keys() == set(), "add a case or a reason in SKIPPED"
    assert (CASES.keys() | SKIPPED.keys()) - found == set(), "a case names no function"
    assert not CASES.keys() & SKIPPED.keys()
    assert all(SKIPPED.values()) and set(KNOWN_GAPS) <= set(CASES)


def _param(name: str) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name])] if name in KNOWN_GAPS else []
    return pytest.param(name, id=name, marks=marks)


@pytest.mark.slow  # the session's warehouses take about 20 s to build
@pytest.mark.parametrize("warehouse", ["fixture", "demo"])
@pytest.mark.parametrize("name", [_param(n) for n in sorted(CASES)])
def test_function_is_at_parity_with_duckdb(name: str, warehouse: str, warehouses: Any) -> None:
    pair = warehouses[warehouse]
    reader = Reader(pair.client)
    problems = []
    for variant, call in CASES[name].items():
        expected, got = parity.plain(call(pair.duck)), parity.plain(call(reader))
        if name in UNORDERED:
            expected, got = parity.sorted_rows(expected), parity.sorted_rows(got)
        problems += parity.result_differences(expected, got, variant or "result")[:5]
    assert problems == [], f"{name}:\n" + "\n".join(problems)


@pytest.mark.slow
def test_the_comparison_has_rows_to_compare(warehouses: Any) -> None:
    """The functions whose every variant is empty (or zero) on both warehouses: nothing there to
    compare yet, so a change here means the fixtures or the windows changed."""
    empty = {
        name
        for name, calls in CASES.items()
        if all(
            parity.empty(parity.plain(c(p.duck)))
            for c in calls.values()
            for p in warehouses.values()
        )
    }
    assert empty == EMPTY_IN_BOTH, f"{sorted(empty)}"


# The bills marts hold nothing in either warehouse: the bill functions are compared again over
# synthetic rows of the marts' own types (DuckDB's and ClickHouse's), NULLs included.
SYNTHETIC = ("bill_reconciliation", "bill_reconciliation_classes")
BILLS: dict[str, Call] = {
    "app.queries.bill_drift_days": lambda c: q.bill_drift_days(c, SINCE, UNTIL),
    "app.queries.bill_days": lambda c: q.bill_days(c, SINCE, UNTIL, ("openai", "o'ai")),
    "app.queries.bill_models": lambda c: q.bill_models(c, SINCE, UNTIL),
    "app.queries.bill_origins": lambda c: q.bill_origins(c, SINCE, UNTIL),
    "app.queries.bill_classes": lambda c: q.bill_classes(c, SINCE, UNTIL),
    "app.queries.bill_span": q.bill_span,
    "app.reports.queries.bill_days": lambda c: rq.bill_days(c, SINCE, UNTIL),
    "app.reports.queries.bill_week": lambda c: rq.bill_week(c, SINCE, UNTIL),
}


def _synthetic(name: str, kind: str, i: int) -> Any:
    """Row ``i``'s value of a column of ClickHouse type ``kind`` (every 5th NULL if Nullable; a
    bill's day and provider never are)."""
    if name == "day":
        return UNTIL - timedelta(days=i % 9)
    if name == "provider":
        return ("openai", "anthropic", "o'ai")[i % 3]
    if kind.startswith("Nullable(") and i % 5 == 3:
        return None
    base = kind.removeprefix("LowCardinality(").removeprefix("Nullable(").rstrip(")")
    if base.startswith("Decimal"):
        scale = int(base.split(",")[1])
        return (Decimal(i * 7919 % 1000 - 300) / 7).quantize(Decimal(1).scaleb(-min(scale, 6)))
    if base.startswith(("Int", "UInt")):
        return i * 31 % 17
    if base.startswith("Float"):
        return (i * 13 % 11) / 7
    return ("model-a", "model-b", "model-c", "x'y")[i % 4]


@pytest.fixture(scope="module")
def bills(warehouses: Any, chdb_client: Callable[[str], Any]) -> tuple[Any, Reader]:
    import duckdb

    source, duck, client = warehouses["fixture"], duckdb.connect(), chdb_client("bills")
    for rel in SYNTHETIC:  # a table of rows and the mart's view over it, on both engines
        d_cols = source.duck.execute(f"DESCRIBE {rel}").fetchall()
        c_cols = source.client.query(f"DESCRIBE TABLE {rel}").result_rows
        names = [c[0] for c in d_cols]
        data = [[_synthetic(c[0], c[1], i) for c in c_cols] for i in range(40)]
        duck.execute(f"CREATE TABLE {rel}_rows ({', '.join(f'{c[0]} {c[1]}' for c in d_cols)})")
        duck.executemany(f"INSERT INTO {rel}_rows VALUES ({', '.join('?' for _ in names)})", data)
        duck.execute(f"CREATE VIEW {rel} AS SELECT * FROM {rel}_rows")
        client.command(f"DROP VIEW IF EXISTS {rel}")
        client.command(f"DROP TABLE IF EXISTS {rel}_rows")
        client.command(
            f"CREATE TABLE {rel}_rows ({', '.join(f'{c[0]} {c[1]}' for c in c_cols)}) "
            "ENGINE = MergeTree ORDER BY tuple()"
        )
        client.insert(f"{rel}_rows", data, column_names=names)
        client.command(f"CREATE VIEW {rel} AS SELECT * FROM {rel}_rows")
    # what the app's temporary macros read (they are defined on every connection): empty
    stub = "SELECT NULL::DATE AS local_day, '' AS provider, '' AS model, '' AS task, '' AS team"
    for view in ("attempts", "spend_per_day"):
        duck.execute(f"CREATE VIEW {view} AS {stub} WHERE false")
    duck.execute(
        "CREATE VIEW logical_requests AS SELECT NULL::DATE AS local_day, '' AS first_provider, "
        "'' AS final_provider, ['']::VARCHAR[] AS chain, '' AS task, '' AS team WHERE false"
    )
    return duck, Reader(client)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BILLS))
def test_bill_function_is_at_parity_over_synthetic_bills(name: str, bills: Any) -> None:
    duck, reader = bills
    expected, got = parity.plain(BILLS[name](duck)), parity.plain(BILLS[name](reader))
    assert not parity.empty(expected)
    assert parity.result_differences(expected, got, "result") == []
