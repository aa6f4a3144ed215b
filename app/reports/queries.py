"""Every SQL string the reports, the budget alerts and the Reports page run.

Figures come from the marts only (``spend_per_day``, ``attempts``, ``logical_requests``,
``price_changes``, ``unpriced_usage`` and the ``task_stats`` / ``model_task_stats`` macros, the
latter two through :mod:`app.queries`, the CLI's functions); the bookkeeping tables
``report_deliveries`` and ``budget_alerts`` are this package's own. Every value is a bound
parameter; the only text put into SQL is a column name picked from :data:`DIMENSIONS`.

Each function takes an open connection: the caller owns its short life (one unit of work).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import duckdb

from app.queries import model_task_stats, task_stats  # noqa: F401  (re-exported)
from app.queries import rows as _rows

DIMENSIONS = {  # report section -> the spend_per_day columns that name a row
    "provider": ("provider",),
    "model": ("provider", "model"),
    "task": ("task",),
    "team": ("team",),
}
NONE_LABEL = "(none)"


# -- the week's figures ---------------------------------------------------------------------------

_TOTALS_SQL = """
SELECT
    sum(spend_usd) AS spend_usd,  -- NULL when no attempt has a price: never $0
    coalesce(sum(attempts), 0) AS attempts,
    coalesce(sum(successes), 0) AS successes,
    coalesce(sum(attempts - successes), 0) AS failed_attempts,
    coalesce(sum(priced_attempts), 0) AS priced_attempts,
    coalesce(sum(unpriced_attempts), 0) AS unpriced_attempts,
    -- no failed attempt is a true $0; failed attempts none of which is priced, NULL
    CASE WHEN coalesce(sum(attempts - successes), 0) = 0 THEN 0
         ELSE sum(spend_on_failures_usd) END AS spend_on_failures_usd,
    coalesce(sum(unpriced_failed_attempts), 0) AS unpriced_failed_attempts,
    coalesce(sum(not_billed_attempts), 0) AS not_billed_attempts
FROM spend_per_day WHERE local_day BETWEEN ? AND ?
"""
_REQUESTS_SQL = """
SELECT
    count(*) AS logical_requests,
    count(*) FILTER (WHERE succeeded) AS succeeded,
    count(*) FILTER (WHERE retried) AS retried,
    count(*) FILTER (WHERE fell_back) AS fell_back
FROM logical_requests WHERE local_day BETWEEN ? AND ?
"""


def totals(con: duckdb.DuckDBPyConnection, since: date, until: date) -> dict[str, Any]:
    """Spend and attempts (``spend_per_day``) and logical requests of the local days."""
    out = _rows(con.execute(_TOTALS_SQL, [since, until]))[0]
    out.update(_rows(con.execute(_REQUESTS_SQL, [since, until]))[0])
    return out


def spend_by(
    con: duckdb.DuckDBPyConnection, dimension: str, week: tuple[date, date], prev: tuple[date, date]
) -> list[dict[str, Any]]:
    """Spend per provider, model, task or team in the week and the week before, each with its
    attempts and unpriced attempts (spend NULL where none is priced: never $0)."""
    cols = DIMENSIONS[dimension]
    keys = ", ".join(f"coalesce({c}, '{NONE_LABEL}') AS {c}" for c in cols)
    sql = f"""
    SELECT {keys},
        sum(spend_usd) FILTER (WHERE local_day BETWEEN ? AND ?) AS spend_usd,
        coalesce(sum(attempts) FILTER (WHERE local_day BETWEEN ? AND ?), 0) AS attempts,
        coalesce(sum(unpriced_attempts) FILTER (WHERE local_day BETWEEN ? AND ?), 0)
            AS unpriced_attempts,
        sum(spend_usd) FILTER (WHERE local_day BETWEEN ? AND ?) AS prev_spend_usd,
        coalesce(sum(attempts) FILTER (WHERE local_day BETWEEN ? AND ?), 0) AS prev_attempts,
        coalesce(sum(unpriced_attempts) FILTER (WHERE local_day BETWEEN ? AND ?), 0)
            AS prev_unpriced_attempts
    FROM spend_per_day WHERE local_day BETWEEN ? AND ?
    GROUP BY ALL
    ORDER BY spend_usd DESC NULLS LAST, unpriced_attempts DESC, prev_spend_usd DESC NULLS LAST,
        {", ".join(cols)}
    """  # noqa: S608  (column names come from DIMENSIONS; every value is bound)
    return _rows(con.execute(sql, [*week, *week, *week, *prev, *prev, *prev, prev[0], week[1]]))


_P95_SQL = """
SELECT
    provider,
    model,
    count(*) FILTER (WHERE local_day BETWEEN ? AND ?) AS n,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE local_day BETWEEN ? AND ?) AS p95_ms,
    count(*) FILTER (WHERE local_day BETWEEN ? AND ?) AS prev_n,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE local_day BETWEEN ? AND ?) AS prev_p95_ms
FROM attempts
WHERE status = 'success' AND local_day BETWEEN ? AND ?
GROUP BY ALL
HAVING count(*) FILTER (WHERE local_day BETWEEN ? AND ?) > 0
ORDER BY n DESC, provider, model
"""


def p95_by_model(
    con: duckdb.DuckDBPyConnection, week: tuple[date, date], prev: tuple[date, date]
) -> list[dict[str, Any]]:
    """Exact P95 latency of successful attempts per (provider, model), with n, in the week and
    the week before. The model is the canonical one: a dated snapshot is the same model."""
    params = [*week, *week, *prev, *prev, prev[0], week[1], *week]
    return _rows(con.execute(_P95_SQL, params))


_ERROR_RATES_SQL = """
SELECT
    {col} AS name,
    coalesce(sum(attempts) FILTER (WHERE local_day BETWEEN ? AND ?), 0) AS attempts,
    coalesce(sum(attempts - successes) FILTER (WHERE local_day BETWEEN ? AND ?), 0) AS errors,
    coalesce(sum(attempts) FILTER (WHERE local_day BETWEEN ? AND ?), 0) AS prev_attempts,
    coalesce(sum(attempts - successes) FILTER (WHERE local_day BETWEEN ? AND ?), 0) AS prev_errors
FROM spend_per_day WHERE local_day BETWEEN ? AND ?
GROUP BY ALL ORDER BY errors DESC, name
"""


def error_rates(
    con: duckdb.DuckDBPyConnection, dimension: str, week: tuple[date, date], prev: tuple[date, date]
) -> list[dict[str, Any]]:
    """Failed attempts per task or per (canonical) model, this week and the week before."""
    col = {"task": "task", "model": "model"}[dimension]
    sql = _ERROR_RATES_SQL.format(col=col)
    return _rows(con.execute(sql, [*week, *week, *prev, *prev, prev[0], week[1]]))


_ERROR_CLASSES_SQL = """
SELECT
    coalesce(error_class, 'other') AS error_class,
    count(*) FILTER (WHERE local_day BETWEEN ? AND ?) AS attempts,
    count(*) FILTER (WHERE local_day BETWEEN ? AND ?) AS prev_attempts
FROM attempts
WHERE status <> 'success' AND local_day BETWEEN ? AND ?
GROUP BY ALL ORDER BY attempts DESC, error_class
"""


def error_classes(
    con: duckdb.DuckDBPyConnection, week: tuple[date, date], prev: tuple[date, date]
) -> list[dict[str, Any]]:
    return _rows(con.execute(_ERROR_CLASSES_SQL, [*week, *prev, prev[0], week[1]]))


_PRICE_CHANGES_SQL = """
SELECT v.changed_at, v.provider, v.model_id, v.source, v.variant,
    v.tier_min_prompt_tokens AS above_prompt_tokens,
    v.prev_input_per_mtok, v.input_per_mtok, v.prev_output_per_mtok, v.output_per_mtok
FROM price_changes v
SEMI JOIN (SELECT DISTINCT priced_provider, priced_model_id FROM attempts) u
    ON u.priced_provider = v.provider AND u.priced_model_id = v.model_id
WHERE v.changed_at >= ? AND v.changed_at < ?
ORDER BY v.changed_at, v.provider, v.model_id
LIMIT 100
"""


def price_changes(
    con: duckdb.DuckDBPyConnection, start_utc: datetime, end_utc: datetime
) -> list[dict[str, Any]]:
    """Price changes that took effect in [start, end) UTC, of models seen in the logs."""
    return _rows(con.execute(_PRICE_CHANGES_SQL, [start_utc, end_utc]))


_UNPRICED_SQL = """
SELECT
    a.provider,
    a.model,
    list(DISTINCT a.served_model ORDER BY a.served_model) AS logged_models,
    count(*) FILTER (WHERE a.cost_basis = 'unpriced') AS unpriced_attempts,
    count(*) FILTER (WHERE a.cost_basis = 'reported') AS reported_cost_attempts,
    any_value(u.reason) AS reason
FROM attempts a
LEFT JOIN unpriced_usage u ON a.provider IS NOT DISTINCT FROM u.provider AND a.served_model = u.model
WHERE a.cost_basis IN ('unpriced', 'reported') AND a.local_day BETWEEN ? AND ?
GROUP BY a.provider, a.model
ORDER BY unpriced_attempts DESC, reported_cost_attempts DESC, a.provider, a.model
LIMIT 50
"""


def unpriced(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    """Models without a price (cost NULL) or priced only by the gateway's reported cost: the
    canonical model, with the names the logs used (what an alias must match)."""
    return _rows(con.execute(_UNPRICED_SQL, [since, until]))


# -- why spend moved ------------------------------------------------------------------------------

_DRIVERS_SQL = """
WITH week_attempts AS (
    SELECT a.*, a.local_day BETWEEN ? AND ? AS this_week
    FROM attempts a WHERE a.local_day BETWEEN ? AND ?
),
week_before AS (
    -- this week's attempts: the version of the same price series (source, model, variant,
    -- tier, time window) in force exactly seven days before each started
    SELECT a.attempt_id, v0.version_id
    FROM week_attempts a
    JOIN model_prices v1 ON v1.version_id = a.price_version_id
    JOIN model_prices v0
        ON v0.source = v1.source AND v0.provider = v1.provider AND v0.model_id = v1.model_id
        AND v0.variant = v1.variant
        AND v0.tier_min_prompt_tokens = v1.tier_min_prompt_tokens
        AND v0.window_start_utc IS NOT DISTINCT FROM v1.window_start_utc
        AND v0.window_end_utc IS NOT DISTINCT FROM v1.window_end_utc
        AND v0.weekdays_only IS NOT DISTINCT FROM v1.weekdays_only
        AND v0.valid_from <= a.started_at - INTERVAL 7 DAY
        AND (v0.valid_to IS NULL OR a.started_at - INTERVAL 7 DAY < v0.valid_to)
    WHERE a.this_week
),
pairs AS (
    SELECT attempt_id, 'now' AS priced_at, price_version_id AS version_id
    FROM week_attempts WHERE price_version_id IS NOT NULL
    UNION ALL
    SELECT attempt_id, 'week_before', version_id FROM week_before
),
costed AS (
    -- an attempt's cost before any cache (prompt-cache reads at the full input price) at the
    -- prices of a version: the pricing of int_attempts_priced with cache reads as fresh input
    SELECT p.attempt_id, p.priced_at,
        ((((a.fresh_input_tokens + a.cache_read_tokens) * coalesce(v.input_per_mtok, 0)
          + a.cache_write_5m_tokens * coalesce(v.cache_write_5m_per_mtok, v.input_per_mtok, 0)
          + a.cache_write_1h_tokens * coalesce(v.cache_write_1h_per_mtok,
                                               v.cache_write_5m_per_mtok, v.input_per_mtok, 0)
          + CASE WHEN v.reasoning_per_mtok IS NULL
                 THEN a.output_tokens * coalesce(v.output_per_mtok, 0)
                 ELSE (a.output_tokens - a.reasoning_tokens) * coalesce(v.output_per_mtok, 0)
                      + a.reasoning_tokens * v.reasoning_per_mtok END) * 0.000001
          + coalesce(v.per_request, 0)) * (1 - coalesce(v.discount_pct, 0) / 100))::DOUBLE
            AS gross
    FROM pairs p
    JOIN week_attempts a USING (attempt_id)
    JOIN model_prices v ON v.version_id = p.version_id
),
gross AS (
    SELECT attempt_id,
        max(gross) FILTER (WHERE priced_at = 'now') AS gross_now,
        max(gross) FILTER (WHERE priced_at = 'week_before') AS gross_week_before,
        bool_or(priced_at = 'week_before') AS had_price_week_before
    FROM costed GROUP BY attempt_id
),
valued AS (
    SELECT a.this_week, a.provider, a.model, a.cost_basis, a.cost_usd,
        g.gross_now, g.gross_week_before,
        coalesce(g.had_price_week_before, false) AS had_price_week_before,
        -- a version's prices apply where the attempt was priced from it (not a reported cost)
        a.cost_basis IN ('computed', 'cache_hit') AND g.gross_now IS NOT NULL
            AND a.has_token_counts AS repriceable
    FROM week_attempts a LEFT JOIN gross g USING (attempt_id)
),
saved AS (
    SELECT *,
        -- what caching saved: a gateway cache hit its whole cost, a prompt-cache read the
        -- difference to the full input price
        CASE WHEN NOT repriceable THEN 0.0
             WHEN cost_basis = 'cache_hit' THEN gross_now
             ELSE greatest(gross_now - cost_usd::DOUBLE, 0.0) END AS cache_saved
    FROM valued
)
SELECT
    this_week,
    provider,
    model,
    count(*) AS attempts,
    count(*) FILTER (WHERE cost_basis <> 'unpriced') AS priced_attempts,
    coalesce(sum(cost_usd), 0) AS spend_usd,
    coalesce(sum(cache_saved) FILTER (WHERE cost_basis <> 'unpriced'), 0.0) AS cache_saved_usd,
    -- the same attempts before any cache, at the prices of a week before (this week only;
    -- without a price then, or priced otherwise, at today's)
    coalesce(sum(CASE WHEN repriceable AND had_price_week_before THEN gross_week_before
                      ELSE cost_usd::DOUBLE + cache_saved END)
             FILTER (WHERE cost_basis <> 'unpriced'), 0.0) AS gross_week_before_usd,
    count(*) FILTER (WHERE repriceable AND had_price_week_before
                     AND abs(gross_week_before - gross_now) > 1e-12) AS repriced_attempts
FROM saved
GROUP BY ALL
ORDER BY this_week, provider, model
"""


def spend_drivers(
    con: duckdb.DuckDBPyConnection, week: tuple[date, date], prev: tuple[date, date]
) -> list[dict[str, Any]]:
    """Per (provider, canonical model) and week (``this_week`` false: the week before): attempts,
    priced attempts, known spend, what caching saved, and (this week) the cost before any cache
    at the prices in force a week earlier. The parts of :func:`app.reports.why.drivers`."""
    return _rows(con.execute(_DRIVERS_SQL, [*week, prev[0], week[1]]))


# -- budgets --------------------------------------------------------------------------------------

_MONTH_SPEND_SQL = """
SELECT grouping(team) AS g_team, grouping(task) AS g_task, team, task,
    sum(spend_usd) AS spend_usd,  -- NULL when no attempt has a price: never $0
    coalesce(sum(attempts), 0) AS attempts,
    coalesce(sum(unpriced_attempts), 0) AS unpriced_attempts
FROM spend_per_day WHERE local_month = ? AND local_day <= ?
GROUP BY GROUPING SETS ((), (team), (task))
"""


class Spent(NamedTuple):
    """Spend of a budget's scope: the known part (None when no attempt is priced) and how many
    attempts have no price. With unpriced attempts, the known part is a lower bound."""

    spend_usd: Decimal | None
    unpriced_attempts: int = 0


NOTHING_SPENT = Spent(Decimal(0), 0)  # no attempt at all: a true $0


def month_spend(
    con: duckdb.DuckDBPyConnection, month: date, through: date
) -> tuple[Spent, dict[str, Spent], dict[str, Spent]]:
    """(total, per team, per task) spend of the local month up to and including ``through``."""
    total, teams, tasks = NOTHING_SPENT, {}, {}
    for g_team, g_task, team, task, spend, attempts, unpriced in con.execute(
        _MONTH_SPEND_SQL, [month, through]
    ).fetchall():
        if not attempts:  # the grand total of a month without traffic
            continue
        spent = Spent(None if spend is None else Decimal(spend), int(unpriced))
        if g_team and g_task:
            total = spent
        elif not g_team and team is not None:
            teams[str(team)] = spent
        elif not g_task and task is not None:
            tasks[str(task)] = spent
    return total, teams, tasks


def alert_keys(con: duckdb.DuckDBPyConnection, month: date) -> dict[tuple[str, str, float], str]:
    """(scope, scope value, threshold) -> status of the month's recorded alerts."""
    rows = con.execute(
        "SELECT scope, scope_value, threshold, status FROM budget_alerts WHERE month = ?", [month]
    ).fetchall()
    return {(r[0], r[1], float(r[2])): str(r[3]) for r in rows}


def alerts_to_send(
    con: duckdb.DuckDBPyConnection, month: date, max_attempts: int
) -> list[dict[str, Any]]:
    sql = """SELECT * FROM budget_alerts
        WHERE month = ? AND status IN ('pending', 'failed') AND attempts < ?
        ORDER BY scope, scope_value, threshold"""
    return _rows(con.execute(sql, [month, max_attempts]))


def insert_alert(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    con.execute(
        "INSERT INTO budget_alerts (month, scope, scope_value, threshold, basis, budget_usd, "
        "spend_usd, projected_usd, detected_at, status, attempts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0) ON CONFLICT DO NOTHING",
        [
            row["month"],
            row["scope"],
            row["scope_value"],
            row["threshold"],
            row["basis"],
            row["budget_usd"],
            row["spend_usd"],
            row["projected_usd"],
            row["detected_at"],
        ],
    )


def finish_alert(
    con: duckdb.DuckDBPyConnection,
    key: tuple[date, str, str, float],
    status: str,
    channels: str,
    detail: str | None,
) -> None:
    con.execute(
        "UPDATE budget_alerts SET status = ?, channels = ?, detail = ?, attempts = attempts + 1 "
        "WHERE month = ? AND scope = ? AND scope_value = ? AND threshold = ?",
        [status, channels, detail, *key],
    )


# -- deliveries -----------------------------------------------------------------------------------


def delivered_channels(con: duckdb.DuckDBPyConnection, week: str) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT channel FROM report_deliveries WHERE week = ? AND status = 'sent'", [week]
    ).fetchall()
    return {str(r[0]) for r in rows}


def record_delivery(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    con.execute(
        "INSERT INTO report_deliveries (week, channel, target, status, attempts, sent_at, "
        "trigger, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            row["week"],
            row["channel"],
            row["target"],
            row["status"],
            row["attempts"],
            row["sent_at"],
            row["trigger"],
            row.get("detail"),
        ],
    )


# -- provider bills -------------------------------------------------------------------------------


def _has_bills(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the reconciliation mart exists (a warehouse may predate it until migrated)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' "
            "AND view_name = 'bill_reconciliation'"
        ).fetchall()[0][0]
    )


def bill_days(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    """Per UTC day and provider of ``since``..``until``: billed, recomputed, reported, the
    drift, its share and the origin of the model whose drift is largest."""
    if not _has_bills(con):
        return []
    sql = """SELECT day, provider, sum(billed_usd) AS billed_usd,
        sum(recomputed_usd) AS recomputed_usd, sum(reported_usd) AS reported_usd,
        sum(billed_usd) - sum(recomputed_usd) AS drift_usd,
        CASE WHEN sum(billed_usd) <> 0
             THEN ((sum(billed_usd) - sum(recomputed_usd)) / sum(billed_usd))::DOUBLE END
            AS drift_share,
        arg_max(origin, abs(coalesce(drift_usd, billed_usd))) AS origin
        FROM bill_reconciliation WHERE day BETWEEN ? AND ?
        GROUP BY day, provider ORDER BY day, provider"""
    return _rows(con.execute(sql, [since, until]))


def bill_week(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    """Per provider over ``since``..``until`` (UTC days): the week's bill against RouteLedger
    and the gateway, and the drift of each origin (``origins``: origin -> USD)."""
    if not _has_bills(con):
        return []
    sql = """WITH r AS (SELECT * FROM bill_reconciliation WHERE day BETWEEN ? AND ?),
        o AS (SELECT provider, origin, sum(coalesce(drift_usd, billed_usd)) AS usd
              FROM r GROUP BY ALL)
        SELECT provider, count(DISTINCT day) AS days, sum(billed_usd) AS billed_usd,
            sum(recomputed_usd) AS recomputed_usd, sum(reported_usd) AS reported_usd,
            sum(billed_usd) - sum(recomputed_usd) AS drift_usd,
            CASE WHEN sum(billed_usd) <> 0
                 THEN ((sum(billed_usd) - sum(recomputed_usd)) / sum(billed_usd))::DOUBLE END
                AS drift_share,
            (SELECT list({'origin': origin, 'usd': usd} ORDER BY abs(usd) DESC)
             FROM o WHERE o.provider = r.provider) AS origins
        FROM r GROUP BY provider ORDER BY provider"""
    return _rows(con.execute(sql, [since, until]))


def bill_drifts(
    con: duckdb.DuckDBPyConnection, since: date, share: float, min_usd: float
) -> list[dict[str, Any]]:
    """Provider-days from ``since`` on whose bill and recomputed cost differ by more than
    ``share`` of the bill and at least ``min_usd``, never claimed before."""
    if not _has_bills(con):
        return []
    sql = """WITH d AS (
            SELECT day, provider, sum(billed_usd) AS billed_usd,
                sum(recomputed_usd) AS recomputed_usd,
                arg_max(origin, abs(coalesce(drift_usd, billed_usd))) AS origin
            FROM bill_reconciliation WHERE day >= ? GROUP BY day, provider
        )
        SELECT day, provider, billed_usd, recomputed_usd,
            billed_usd - recomputed_usd AS drift_usd,
            ((billed_usd - recomputed_usd) / billed_usd)::DOUBLE AS drift_share, origin
        FROM d
        WHERE billed_usd > 0 AND recomputed_usd IS NOT NULL
          AND abs(billed_usd - recomputed_usd) > ? * billed_usd
          AND abs(billed_usd - recomputed_usd) >= ?
          AND NOT EXISTS (SELECT 1 FROM bill_alerts a
                          WHERE a.day = d.day AND a.provider = d.provider)
        ORDER BY day, provider"""
    return _rows(con.execute(sql, [since, share, min_usd]))


def insert_bill_alert(
    con: duckdb.DuckDBPyConnection, row: dict[str, Any], threshold: float, at: datetime
) -> None:
    con.execute(
        "INSERT INTO bill_alerts (day, provider, billed_usd, recomputed_usd, drift_usd, "
        "drift_share, threshold, origin, detected_at, status, attempts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0) ON CONFLICT DO NOTHING",
        [
            row["day"],
            row["provider"],
            row["billed_usd"],
            row["recomputed_usd"],
            row["drift_usd"],
            row["drift_share"],
            threshold,
            row["origin"],
            at,
        ],  # fmt: skip
    )


def bill_alerts_to_send(con: duckdb.DuckDBPyConnection, max_attempts: int) -> list[dict[str, Any]]:
    sql = """SELECT * FROM bill_alerts WHERE status IN ('pending', 'failed') AND attempts < ?
        ORDER BY day, provider"""
    return _rows(con.execute(sql, [max_attempts]))


def finish_bill_alerts(
    con: duckdb.DuckDBPyConnection,
    keys: list[tuple[date, str]],
    status: str,
    channels: str,
    detail: str | None,
) -> None:
    for day, provider in keys:
        con.execute(
            "UPDATE bill_alerts SET status = ?, channels = ?, detail = ?, "
            "attempts = attempts + 1 WHERE day = ? AND provider = ?",
            [status, channels, detail, day, provider],
        )
