"""Every SQL string the app runs. Reads marts only; every value is a bound parameter.

Each function takes an open connection (the caller owns its short life: one unit of work). The
CLI's functions (:func:`task_stats`, :func:`model_task_stats`, :func:`unpriced_attempts`,
:func:`data_span`) return plain rows as dicts; the dashboard's return small aggregated
DataFrames (every aggregation runs in SQL, never in pandas).

Dashboard filters (:class:`Filters`) are applied through three temporary table macros defined on
each connection, one per mart the pages filter: ``rl_f_spend`` (``spend_per_day``),
``rl_f_attempts`` (``attempts``) and ``rl_f_requests`` (``logical_requests``). Each takes the
filter values as parameters (a NULL list means "all"), so a filter's meaning is written once and
DuckDB still pushes the day range down to the scan. A NULL provider or team is matched as
``(none)``.

The provider and model filters select attempts: ``rl_f_spend`` and ``rl_f_attempts`` keep the
selected models' own attempts (their spend, latency, success, retries, failures), and a page
shows those unless the person asks for whole requests (``Filters.grain = "request"``, the
"Count" control of the Cost and Reliability pages). ``rl_f_requests`` is that request-level
view: a logical request matches a provider when its first or final attempt ran there, and a
model when any of its attempts did; it is read only where :attr:`Filters.per_attempt` is false
(no provider or model filter, where both views are the same requests, or whole requests asked
for). Attempts are read through ``rl_attempts()``, the one place that names the model column.

The Prices, Data health and Reports pages read ops marts over the warehouse's bookkeeping
(``model_prices``, ``logged_models``, ``pending_price_reviews``, ``log_sources``, ``file_loads``,
``quarantine_reasons``, ``quarantined_rows``, ``price_sources``, ``job_run_log``,
``report_delivery_log``, ``budget_alert_log``), never the tables themselves; a test
(tests/app/test_reads_marts_only.py) holds every SQL string here to relations in ``sql/marts/``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

if TYPE_CHECKING:  # annotations only: the CLI and the tuner import this module without pandas
    import pandas as pd

TASK_FIELDS = (
    "task",
    "logical_requests",
    "succeeded",
    "success_rate",
    "success_rate_low",
    "success_rate_high",
    "spend_usd",
    "cost_per_successful_request_usd",
    "latency_n",
    "p50_ms",
    "p95_ms",
    "retry_rate",
    "fallback_rate",
    "unpriced_attempts",
    "spend_on_failed_requests_usd",
    "priced_requests",
    "price_coverage",
    "cost_unknown_reason",
)
MODEL_FIELDS = (
    "provider",
    "model",
    "task",
    "attempts",
    "successes",
    "success_rate",
    "success_rate_low",
    "success_rate_high",
    "spend_usd",
    "cost_per_success_usd",
    "latency_n",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "ttft_n",
    "ttft_p95_ms",
    "retry_share",
    "unpriced_attempts",
    "validated",
    "validation_pass_rate",
    "quality_score",
    "price_coverage",
    "cost_unknown_reason",
    "logged_models",
)
NONE_LABEL = "(none)"
OTHER_LABEL = "(other)"
GROUPINGS = ("provider", "model", "task", "team")


def rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rows of an executed query as dicts keyed by column name (the one definition: the
    reports and the tuner use it too)."""
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# -- the CLI's figures (`routeledger stats`) ------------------------------------------------------

_TASK_STATS_SQL = """
SELECT task, logical_requests, succeeded, success_rate, success_rate_low, success_rate_high,
    spend_usd, cost_per_successful_request_usd, latency_n, p50_ms, p95_ms, retry_rate,
    fallback_rate, unpriced_attempts, spend_on_failed_requests_usd, priced_requests,
    price_coverage, cost_unknown_reason
FROM task_stats(?, ?) ORDER BY spend_usd DESC NULLS LAST, task
"""
_MODEL_STATS_SQL = """
SELECT provider, model, task, attempts, successes, success_rate, success_rate_low,
    success_rate_high, spend_usd, cost_per_success_usd, latency_n, p50_ms, p95_ms, p99_ms, ttft_n,
    ttft_p95_ms, retry_share, unpriced_attempts, validated, validation_pass_rate, quality_score,
    price_coverage, cost_unknown_reason, logged_models
FROM model_task_stats(?, ?) ORDER BY spend_usd DESC NULLS LAST, provider, model, task
"""


def task_stats(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    return rows(con.execute(_TASK_STATS_SQL, [since, until]))


def model_task_stats(
    con: duckdb.DuckDBPyConnection, since: date, until: date
) -> list[dict[str, Any]]:
    return rows(con.execute(_MODEL_STATS_SQL, [since, until]))


def unpriced_attempts(con: duckdb.DuckDBPyConnection, since: date, until: date) -> int:
    row = con.execute(
        "SELECT count(*) FROM attempts WHERE cost_basis = 'unpriced' AND local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchall()
    return int(row[0][0])


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    row = con.execute("SELECT min(local_day), max(local_day) FROM attempts").fetchall()
    return row[0][0], row[0][1]


def json_scalar(value: Any) -> Any:
    """One value of a row, for JSON output: Decimal money as float (exact to the cent and well
    beyond), NaN as None, any other value (dates included) unchanged. Not recursive."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


# -- dashboard filters ----------------------------------------------------------------------------


class Filters(NamedTuple):
    """The sidebar's filters; an empty tuple means "all". Hashable, so it keys the cache.

    ``grain`` says what the request-level figures count when a provider or model filter is set:
    ``"attempt"`` (the selected models' own attempts) or ``"request"`` (whole logical requests
    that touched them). Spend, latency and attempt figures are per attempt either way."""

    since: date
    until: date
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    grain: str = "attempt"

    def params(self) -> list[Any]:
        """The six arguments of the ``rl_f_*`` macros, in order."""
        lists = (self.providers, self.models, self.tasks, self.teams)
        return [self.since, self.until, *[list(v) if v else None for v in lists]]

    @property
    def selects_models(self) -> bool:
        """Whether a provider or model filter is set (a request and its attempts then differ)."""
        return bool(self.providers or self.models)

    @property
    def per_attempt(self) -> bool:
        """Whether request-level figures are replaced by the selected models' own attempts."""
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {self.grain!r}")
        return self.selects_models and self.grain == "attempt"


GRAINS = ("attempt", "request")
# The attempts mart with its model column: the one place that says which column names a model.
_ATTEMPTS_MACRO = """CREATE OR REPLACE TEMP MACRO rl_attempts()
    AS TABLE SELECT * FROM attempts  -- model: the canonical name (served_model as logged)"""
_FILTER_MACROS = (
    _ATTEMPTS_MACRO,
    """CREATE OR REPLACE TEMP MACRO rl_f_spend(since, until, providers, models, tasks, teams)
    AS TABLE SELECT * FROM spend_per_day
    WHERE local_day BETWEEN since AND until
      AND (providers IS NULL OR list_contains(providers, coalesce(provider, '(none)')))
      AND (models IS NULL OR list_contains(models, model))
      AND (tasks IS NULL OR list_contains(tasks, task))
      AND (teams IS NULL OR list_contains(teams, coalesce(team, '(none)')))""",
    """CREATE OR REPLACE TEMP MACRO rl_f_attempts(since, until, providers, models, tasks, teams)
    AS TABLE SELECT * FROM rl_attempts()
    WHERE local_day BETWEEN since AND until
      AND (providers IS NULL OR list_contains(providers, coalesce(provider, '(none)')))
      AND (models IS NULL OR list_contains(models, model))
      AND (tasks IS NULL OR list_contains(tasks, task))
      AND (teams IS NULL OR list_contains(teams, coalesce(team, '(none)')))""",
    """CREATE OR REPLACE TEMP MACRO rl_f_requests(since, until, providers, models, tasks, teams)
    AS TABLE SELECT * FROM logical_requests
    WHERE local_day BETWEEN since AND until
      AND (providers IS NULL OR list_contains(providers, coalesce(first_provider, '(none)'))
           OR list_contains(providers, coalesce(final_provider, '(none)')))
      AND (models IS NULL OR list_has_any(models, chain))
      AND (tasks IS NULL OR list_contains(tasks, task))
      AND (teams IS NULL OR list_contains(teams, coalesce(team, '(none)')))""",
)
# A grouping chosen in the page (provider|model|task|team) is a bound parameter, not SQL text.
_GROUP_SPEND = """CASE ? WHEN 'provider' THEN coalesce(provider, '(none)') WHEN 'model' THEN model
    WHEN 'task' THEN task ELSE coalesce(team, '(none)') END"""


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    for sql in _FILTER_MACROS:
        con.execute(sql)


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    _prepare(con)
    return con.execute(sql, params).df()


def _grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise ValueError(f"grouping must be one of {', '.join(GROUPINGS)}, got {by!r}")
    return by


# -- sidebar --------------------------------------------------------------------------------------


def warehouse_state(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Whether the marts exist and hold attempts, and the span of local days they cover."""
    has = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'attempts'"
    ).fetchall()[0][0]
    if not has:
        return {"marts": False, "attempts": 0, "first_day": None, "last_day": None}
    n, first, last = con.execute(
        "SELECT sum(attempts), min(local_day), max(local_day) FROM spend_per_day"
    ).fetchall()[0]
    return {"marts": True, "attempts": int(n or 0), "first_day": first, "last_day": last}


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Distinct values of each filter dimension, busiest first."""
    out: dict[str, list[str]] = {}
    for key, sql in (
        ("providers", _OPTIONS_PROVIDER),
        ("models", _OPTIONS_MODEL),
        ("tasks", _OPTIONS_TASK),
        ("teams", _OPTIONS_TEAM),
    ):
        out[key] = [r[0] for r in con.execute(sql).fetchall()]
    return out


_OPTIONS_PROVIDER = """SELECT coalesce(provider, '(none)') AS v FROM spend_per_day
    GROUP BY v ORDER BY sum(attempts) DESC, v"""
_OPTIONS_MODEL = "SELECT model FROM spend_per_day GROUP BY model ORDER BY sum(attempts) DESC, model"
_OPTIONS_TASK = "SELECT task FROM spend_per_day GROUP BY task ORDER BY sum(attempts) DESC, task"
_OPTIONS_TEAM = """SELECT coalesce(team, '(none)') AS v FROM spend_per_day
    GROUP BY v ORDER BY sum(attempts) DESC, v"""


# -- overview -------------------------------------------------------------------------------------


def period_spend(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    week: date,
    prev_week: date,
    month: date,
    prev_month: date,
) -> dict[str, float]:
    """Spend of the calendar week and month holding ``f.until`` (up to it), of the previous
    week and month (whole), and of the previous ones up to the same day (like for like); the
    known part of each (unpriced attempts add nothing), and the week's and month's unpriced
    attempts (``week_unpriced``, ``month_unpriced``) to tell it by (:mod:`app.money`)."""
    elapsed_w, elapsed_m = (f.until - week).days, (f.until - month).days
    sql = """
    SELECT
        coalesce(sum(spend_usd) FILTER (WHERE local_week = ?), 0) AS week_usd,
        coalesce(sum(spend_usd) FILTER (WHERE local_week = ?), 0) AS prev_week_usd,
        coalesce(sum(spend_usd) FILTER (WHERE local_week = ? AND local_day - local_week <= ?), 0)
            AS prev_week_to_date_usd,
        coalesce(sum(spend_usd) FILTER (WHERE local_month = ?), 0) AS month_usd,
        coalesce(sum(spend_usd) FILTER (WHERE local_month = ?), 0) AS prev_month_usd,
        coalesce(sum(spend_usd) FILTER (WHERE local_month = ? AND local_day - local_month <= ?), 0)
            AS prev_month_to_date_usd,
        coalesce(sum(unpriced_attempts) FILTER (WHERE local_week = ?), 0) AS week_unpriced,
        coalesce(sum(unpriced_attempts) FILTER (WHERE local_month = ?), 0) AS month_unpriced
    FROM rl_f_spend(?, ?, ?, ?, ?, ?)
    """
    window = f._replace(since=min(prev_week, prev_month)).params()
    params = [week, prev_week, prev_week, elapsed_w, month, prev_month, prev_month, elapsed_m]
    row = _df(con, sql, [*params, week, month, *window]).iloc[0]
    return {k: float(v) for k, v in row.items()}


def spend_over_time(
    con: duckdb.DuckDBPyConnection, f: Filters, by: str, top: int = 8
) -> pd.DataFrame:
    """Spend per local day and group; groups past the ``top`` busiest are summed as (other)."""
    sql = f"""
    WITH daily AS (
        SELECT local_day, {_GROUP_SPEND} AS grp, sum(spend_usd) AS spend_usd
        FROM rl_f_spend(?, ?, ?, ?, ?, ?) GROUP BY ALL
    ),
    ranked AS (
        SELECT grp FROM daily GROUP BY grp ORDER BY sum(spend_usd) DESC, grp LIMIT ?
    )
    SELECT local_day, CASE WHEN grp IN (SELECT grp FROM ranked) THEN grp ELSE '(other)' END
        AS grp, sum(spend_usd) AS spend_usd
    FROM daily GROUP BY ALL ORDER BY local_day, spend_usd DESC
    """  # noqa: S608  (_GROUP_SPEND is a constant; the grouping itself is bound)
    return _df(con, sql, [_grouping(by), *f.params(), top])


def top_movers(
    con: duckdb.DuckDBPyConnection, f: Filters, by: str, week: date, prev_week: date, n: int = 8
) -> pd.DataFrame:
    """Groups whose spend changed most between the calendar week from ``week`` (up to
    ``f.until`` when it holds it) and the same days of the week from ``prev_week``."""
    elapsed = min((f.until - week).days, 6)
    sql = f"""
    WITH w AS (
        SELECT {_GROUP_SPEND} AS grp,
            coalesce(sum(spend_usd) FILTER (WHERE local_week = ?), 0) AS week_usd,
            coalesce(sum(spend_usd) FILTER (WHERE local_week = ? AND local_day - local_week <= ?),
                     0) AS week_before_usd
        FROM rl_f_spend(?, ?, ?, ?, ?, ?) GROUP BY grp
    )
    SELECT grp, week_usd, week_before_usd, week_usd - week_before_usd AS change_usd,
        CASE WHEN week_before_usd > 0 THEN week_usd / week_before_usd - 1 END AS change_pct
    FROM w WHERE week_usd <> week_before_usd
    ORDER BY abs(change_usd) DESC, grp LIMIT ?
    """  # noqa: S608  (_GROUP_SPEND is a constant; the grouping itself is bound)
    params = [_grouping(by), week, prev_week, elapsed, *f._replace(since=prev_week).params(), n]
    return _df(con, sql, params)


def spend_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    sql = """SELECT local_day, sum(spend_usd) AS spend_usd FROM rl_f_spend(?, ?, ?, ?, ?, ?)
        GROUP BY local_day ORDER BY local_day"""
    return _df(con, sql, f.params())


def unpriced_share(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, int]:
    sql = """SELECT coalesce(sum(attempts), 0) AS attempts,
        coalesce(sum(unpriced_attempts), 0) AS unpriced_attempts
        FROM rl_f_spend(?, ?, ?, ?, ?, ?)"""
    row = _df(con, sql, f.params()).iloc[0]
    return {"attempts": int(row["attempts"]), "unpriced_attempts": int(row["unpriced_attempts"])}


# -- cost per success -----------------------------------------------------------------------------


def model_task_cost(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per (provider, model, task): cost per successful attempt as in ``model_task_stats`` (the
    same ``rl_cost_*`` macros: over priced attempts, with their coverage)."""
    sql = """
    WITH g AS (
        SELECT coalesce(provider, '(none)') AS provider, model, task,
            sum(attempts)::BIGINT AS attempts, sum(successes)::BIGINT AS successes,
            sum(spend_usd) AS spend_usd,  -- NULL when nothing of the group is priced: never $0
            sum(priced_successes)::BIGINT AS priced_successes,
            sum(priced_attempts) / sum(attempts) AS price_coverage,
            sum(unpriced_attempts)::BIGINT AS unpriced_attempts
        FROM rl_f_spend(?, ?, ?, ?, ?, ?)
        GROUP BY ALL
    )
    SELECT provider, model, task, attempts, successes,
        successes / attempts AS success_rate,
        wilson_low(successes, attempts) AS success_rate_low,
        wilson_high(successes, attempts) AS success_rate_high,
        spend_usd,
        rl_cost_per_success(spend_usd, priced_successes, price_coverage) AS cost_per_success_usd,
        price_coverage,
        rl_cost_unknown_reason(price_coverage, priced_successes, 'attempt') AS cost_unknown_reason,
        unpriced_attempts
    FROM g ORDER BY spend_usd DESC NULLS LAST, provider, model, task
    """
    return _df(con, sql, f.params())


def task_cost(con: duckdb.DuckDBPyConnection, f: Filters, with_total: bool = False) -> pd.DataFrame:
    """The ``task_stats`` mart's figures over the filtered logical requests, and the same
    figures over all of them in a last row when ``with_total`` (``is_total``: :func:`split_total`)."""
    sql = """
    WITH t AS (
        SELECT task, grouping(task) = 1 AS is_total,
            count(*) AS logical_requests,
            count(*) FILTER (WHERE succeeded) AS succeeded,
            sum(cost_usd) AS spend_usd,  -- NULL when nothing is priced, as in task_stats
            quantile_cont(latency_ms, [0.50, 0.95]) FILTER (WHERE succeeded) AS lat,
            count(*) FILTER (WHERE retried) AS retried,
            count(*) FILTER (WHERE fell_back) AS fell_back,
            sum(unpriced_attempts) AS unpriced_attempts,
            count(*) FILTER (WHERE priced) AS priced_requests,
            count(*) FILTER (WHERE priced AND succeeded) AS priced_succeeded,
            sum(cost_usd) FILTER (WHERE priced) AS priced_spend_usd,
            CASE WHEN count(*) FILTER (WHERE NOT succeeded) = 0 THEN 0
                 ELSE sum(cost_usd) FILTER (WHERE NOT succeeded) END
                AS spend_on_failed_requests_usd
        FROM rl_f_requests(?, ?, ?, ?, ?, ?)
        GROUP BY GROUPING SETS ((task), ())
        HAVING count(*) > 0  -- no all-tasks row over nothing
    )
    SELECT coalesce(task, '(all tasks)') AS task, is_total, logical_requests, succeeded,
        succeeded / logical_requests AS success_rate,
        wilson_low(succeeded, logical_requests) AS success_rate_low,
        wilson_high(succeeded, logical_requests) AS success_rate_high,
        spend_usd,
        rl_cost_per_success(priced_spend_usd, priced_succeeded, priced_requests / logical_requests)
            AS cost_per_successful_request_usd,
        succeeded AS latency_n, lat[1] AS p50_ms, lat[2] AS p95_ms,
        retried / logical_requests AS retry_rate,
        fell_back / logical_requests AS fallback_rate,
        unpriced_attempts, spend_on_failed_requests_usd, priced_requests,
        priced_requests / logical_requests AS price_coverage,
        rl_cost_unknown_reason(priced_requests / logical_requests, priced_succeeded, 'request')
            AS cost_unknown_reason
    FROM t WHERE ? OR NOT is_total ORDER BY is_total, spend_usd DESC NULLS LAST, task
    """
    return _df(con, sql, [*f.params(), with_total])


def task_attempt_cost(
    con: duckdb.DuckDBPyConnection, f: Filters, with_total: bool = False
) -> pd.DataFrame:
    """Per task, over the filtered attempts only (the selected models' own attempts when a
    provider or model filter is set): the per-model definitions of DESIGN, cost per success =
    their cost / their successful attempts, retry share = share of them followed by another
    attempt, latency over the successful ones. ``logical_requests`` counts the requests they
    belong to. Spend is NULL, never $0, when none of them is priced. With ``with_total``, a last
    row (``is_total``) holds the same figures over all of them."""
    sql = """
    WITH t AS (
        SELECT task, grouping(task) = 1 AS is_total,
            count(*) AS attempts,
            count(*) FILTER (WHERE status = 'success') AS successes,
            count(DISTINCT logical_request_id) AS logical_requests,
            sum(cost_usd) AS spend_usd,
            quantile_cont(latency_ms, [0.50, 0.95]) FILTER (WHERE status = 'success') AS lat,
            count(*) FILTER (WHERE followed_by_another) AS followed,
            count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
            count(*) FILTER (WHERE cost_basis <> 'unpriced' AND status = 'success')
                AS priced_successes,
            count(*) FILTER (WHERE cost_basis <> 'unpriced') / count(*) AS price_coverage,
            sum(cost_usd) FILTER (WHERE status <> 'success') AS spend_on_failures_usd
        FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
        GROUP BY GROUPING SETS ((task), ())
        HAVING count(*) > 0  -- no all-tasks row over nothing
    )
    SELECT coalesce(task, '(all tasks)') AS task, is_total, attempts, successes,
        successes / attempts AS success_rate,
        wilson_low(successes, attempts) AS success_rate_low,
        wilson_high(successes, attempts) AS success_rate_high,
        spend_usd,
        rl_cost_per_success(spend_usd, priced_successes, price_coverage) AS cost_per_success_usd,
        successes AS latency_n, lat[1] AS p50_ms, lat[2] AS p95_ms,
        followed / attempts AS retry_share,
        unpriced_attempts, spend_on_failures_usd, logical_requests, price_coverage,
        rl_cost_unknown_reason(price_coverage, priced_successes, 'attempt') AS cost_unknown_reason
    FROM t WHERE ? OR NOT is_total ORDER BY is_total, spend_usd DESC NULLS LAST, task
    """
    return _df(con, sql, [*f.params(), with_total])


def split_total(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The per-task rows and the all-tasks row of :func:`task_cost` / :func:`task_attempt_cost`
    (the headline: computed by the same SQL as the rows, never summed in pandas)."""
    total = df[df["is_total"]]
    rows = df[~df["is_total"]].drop(columns="is_total").reset_index(drop=True)
    return rows, total.drop(columns="is_total").iloc[0]


# -- latency --------------------------------------------------------------------------------------

_GROUP_ATTEMPT = """CASE ? WHEN 'task' THEN task WHEN 'model_task' THEN model || ' · ' || task
    ELSE model END"""


MEASURES = {  # name: (column, quantile); a bound parameter each, never SQL text
    "p50": ("latency", 0.50),
    "p95": ("latency", 0.95),
    "p99": ("latency", 0.99),
    "ttft_p50": ("ttft", 0.50),
    "ttft_p95": ("ttft", 0.95),
}


def latency_over_time(
    con: duckdb.DuckDBPyConnection, f: Filters, by: str, measure: str = "p95", top: int = 8
) -> pd.DataFrame:
    """One exact percentile (``measure``) of successful attempts' latency or time to first
    token per day and group, with its n; the ``top`` groups with most attempts."""
    if by not in ("model", "task", "model_task"):
        raise ValueError(f"grouping must be model, task or model_task, got {by!r}")
    column, q = MEASURES[measure]
    sql = f"""
    WITH ranked AS (
        SELECT CASE ? WHEN 'task' THEN task WHEN 'model_task' THEN model || ' · ' || task
            ELSE model END AS grp
        FROM rl_f_spend(?, ?, ?, ?, ?, ?) GROUP BY grp ORDER BY sum(successes) DESC, grp LIMIT ?
    )
    SELECT local_day, grp, count(ms) AS n, quantile_cont(ms, ?) AS value_ms
    FROM (
        SELECT local_day, {_GROUP_ATTEMPT} AS grp,
            CASE WHEN ? = 'ttft' THEN ttft_ms ELSE latency_ms END AS ms
        FROM rl_f_attempts(?, ?, ?, ?, ?, ?) WHERE status = 'success'
    )
    WHERE grp IN (SELECT grp FROM ranked)
    GROUP BY ALL HAVING count(ms) > 0 ORDER BY local_day, grp
    """  # noqa: S608  (_GROUP_ATTEMPT is a constant; the grouping itself is bound)
    return _df(con, sql, [by, *f.params(), top, q, by, column, *f.params()])


def latency_summary(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per (provider, model, task) over the window: latency percentiles as in
    ``model_task_stats``, with n (a list quantile sorts each group once)."""
    sql = """
    WITH q AS (
        SELECT coalesce(provider, '(none)') AS provider, model, task,
            count(*) AS latency_n,
            quantile_cont(latency_ms, [0.50, 0.95, 0.99]) AS lat,
            count(ttft_ms) AS ttft_n,
            quantile_cont(ttft_ms, [0.50, 0.95]) AS ttft
        FROM rl_f_attempts(?, ?, ?, ?, ?, ?) WHERE status = 'success'
        GROUP BY ALL
    )
    SELECT provider, model, task, latency_n, lat[1] AS p50_ms, lat[2] AS p95_ms,
        lat[3] AS p99_ms, ttft_n, ttft[1] AS ttft_p50_ms, ttft[2] AS ttft_p95_ms
    FROM q ORDER BY latency_n DESC, provider, model, task
    """
    return _df(con, sql, f.params())


def latency_distribution(
    con: duckdb.DuckDBPyConnection, f: Filters, models: list[str], upto_ms: float, bins: int = 40
) -> pd.DataFrame:
    """A histogram of successful attempts' latency per model: ``bins`` equal bins up to
    ``upto_ms`` (the page passes the models' highest P99), the last one holding everything
    above."""
    sql = """
    SELECT model, least(floor(latency_ms / ?), ?)::INTEGER AS bin,
        least(floor(latency_ms / ?), ?) * ? AS from_ms, count(*) AS n
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
    WHERE status = 'success' AND latency_ms IS NOT NULL AND list_contains(?, model)
    GROUP BY ALL ORDER BY model, bin
    """
    width = max(float(upto_ms), 1.0) / bins
    return _df(con, sql, [width, bins, width, bins, width, *f.params(), list(models)])


def latency_box(con: duckdb.DuckDBPyConnection, f: Filters, models: list[str]) -> pd.DataFrame:
    """Quartiles, P5 and P95 of successful attempts' latency per model (a box without raw rows)."""
    sql = """
    WITH q AS (
        SELECT model, count(*) AS n,
            quantile_cont(latency_ms, [0.05, 0.25, 0.50, 0.75, 0.95]) AS v
        FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
        WHERE status = 'success' AND latency_ms IS NOT NULL AND list_contains(?, model)
        GROUP BY model
    )
    SELECT model, n, v[1] AS p05_ms, v[2] AS q1_ms, v[3] AS median_ms, v[4] AS q3_ms,
        v[5] AS p95_ms
    FROM q ORDER BY median_ms
    """
    return _df(con, sql, [*f.params(), list(models)])


# -- reliability ----------------------------------------------------------------------------------


def reliability_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per day: attempt error rate; logical requests' retry, fallback and failure rates."""
    sql = """
    WITH a AS (
        SELECT local_day, sum(attempts)::BIGINT AS attempts,
            sum(attempts - successes)::BIGINT AS failed_attempts
        FROM rl_f_spend(?, ?, ?, ?, ?, ?) GROUP BY local_day
    ),
    r AS (
        SELECT local_day, count(*) AS requests,
            count(*) FILTER (WHERE retried) AS retried,
            count(*) FILTER (WHERE fell_back) AS fell_back,
            count(*) FILTER (WHERE NOT succeeded) AS failed_requests
        FROM rl_f_requests(?, ?, ?, ?, ?, ?) GROUP BY local_day
    )
    SELECT local_day, coalesce(attempts, 0) AS attempts,
        coalesce(failed_attempts, 0) AS failed_attempts,
        failed_attempts / attempts AS error_rate,
        coalesce(requests, 0) AS requests,
        retried / requests AS retry_rate,
        fell_back / requests AS fallback_rate,
        failed_requests / requests AS request_failure_rate
    FROM a FULL JOIN r USING (local_day) ORDER BY local_day
    """
    return _df(con, sql, f.params() + f.params())


def attempt_reliability_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per day, over the filtered attempts only: their error rate and their retry share (the
    share of them followed by another attempt, DESIGN's per-model retry rate)."""
    sql = """
    SELECT local_day, count(*) AS attempts,
        count(*) FILTER (WHERE status <> 'success') AS failed_attempts,
        count(*) FILTER (WHERE status <> 'success') / count(*) AS error_rate,
        count(*) FILTER (WHERE followed_by_another) AS followed_by_another,
        count(*) FILTER (WHERE followed_by_another) / count(*) AS retry_share
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
    GROUP BY local_day ORDER BY local_day
    """
    return _df(con, sql, f.params())


def error_classes(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    sql = """
    SELECT coalesce(error_class, 'other') AS error_class, model,
        count(*) AS failed_attempts, sum(cost_usd) AS spend_usd,
        count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
        mode(http_status) AS usual_http_status
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?) WHERE status <> 'success'
    GROUP BY ALL ORDER BY failed_attempts DESC, error_class, model
    """
    return _df(con, sql, f.params())


def fallback_flows(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Logical requests whose final model differs from the first: first -> final, with counts."""
    sql = """
    SELECT first_model, final_model, count(*) AS requests,
        count(*) FILTER (WHERE succeeded) AS succeeded,
        sum(cost_usd) AS spend_usd  -- NULL when none is priced: never $0
    FROM rl_f_requests(?, ?, ?, ?, ?, ?) WHERE fell_back
    GROUP BY ALL ORDER BY requests DESC, first_model, final_model
    """
    return _df(con, sql, f.params())


def fallbacks_from(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The filtered attempts (the selected models' own) that were followed by an attempt on
    another model: their model -> the next attempt's model, with counts, how many of those next
    attempts succeeded, and the cost of the attempts that were left."""
    sql = """
    SELECT a.model AS from_model, n.model AS to_model, count(*) AS attempts,
        count(*) FILTER (WHERE n.status = 'success') AS next_succeeded,
        sum(a.cost_usd) AS spend_usd  -- NULL when none is priced: never $0
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?) a
    JOIN rl_attempts() n
      ON n.logical_request_id = a.logical_request_id AND n.attempt_index = a.attempt_index + 1
    WHERE a.followed_by_another AND n.model <> a.model AND n.local_day >= ?
    GROUP BY ALL ORDER BY attempts DESC, from_model, to_model
    """
    return _df(con, sql, [*f.params(), f.since])


def failed_spend(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per (provider, model): money spent on attempts that failed, under the billing policy in
    force (the marts cost failed attempts by ``[billing]``; ``not_billed_attempts`` cost 0);
    NULL, never $0, where no failed attempt is priced (``unpriced_failed_attempts``)."""
    sql = """
    SELECT coalesce(provider, '(none)') AS provider, model,
        sum(attempts)::BIGINT AS attempts, sum(attempts - successes)::BIGINT AS failed_attempts,
        sum(spend_usd) AS spend_usd, sum(spend_on_failures_usd) AS spend_on_failures_usd,
        CASE WHEN sum(spend_usd) > 0 THEN sum(spend_on_failures_usd) / sum(spend_usd) END
            AS failed_share, sum(unpriced_attempts)::BIGINT AS unpriced_attempts,
        sum(unpriced_failed_attempts)::BIGINT AS unpriced_failed_attempts,
        sum(not_billed_attempts)::BIGINT AS not_billed_attempts
    FROM rl_f_spend(?, ?, ?, ?, ?, ?)
    GROUP BY ALL HAVING sum(attempts - successes) > 0
    ORDER BY spend_on_failures_usd DESC NULLS LAST, provider, model
    """
    return _df(con, sql, f.params())


# -- prices ---------------------------------------------------------------------------------------

_PRICE_SCOPE = """
    (? IS NULL OR list_contains(?, v.provider))
    AND (? = '' OR v.model_id ILIKE '%' || ? || '%' ESCAPE '\\')
    AND (NOT ? OR EXISTS (
        SELECT 1 FROM logged_models m
        WHERE m.priced_provider = v.provider AND m.priced_model_id = v.model_id
          AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], coalesce(m.model, m.logged_model)))))
"""


def _scope(f: Filters, search: str, used_only: bool) -> list[Any]:
    providers = list(f.providers) or None
    models = list(f.models) or None
    term = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [providers, providers, term, term, used_only, models, models]


def current_prices(
    con: duckdb.DuckDBPyConnection, f: Filters, search: str = "", used_only: bool = True
) -> pd.DataFrame:
    """Prices in force now, every source; ``wins`` marks the source that prices attempts."""
    sql = f"""
    SELECT v.provider, v.model_id, v.source, v.source_rank,
        row_number() OVER (PARTITION BY v.provider, v.model_id, v.variant,
            v.tier_min_prompt_tokens, v.window_start_utc, v.window_end_utc
            ORDER BY v.source_rank) = 1 AS wins,
        v.variant, v.tier_min_prompt_tokens AS above_prompt_tokens,
        v.input_per_mtok, v.cached_input_per_mtok, v.cache_write_5m_per_mtok, v.output_per_mtok,
        v.reasoning_per_mtok, v.per_request, v.discount_pct,
        CASE WHEN v.valid_from = TIMESTAMP '1970-01-01' THEN v.first_observed_at
             ELSE v.valid_from END AS in_force_since,
        v.last_observed_at
    FROM model_prices v
    WHERE v.valid_to IS NULL AND {_PRICE_SCOPE}
    ORDER BY v.provider, v.model_id, v.variant, v.tier_min_prompt_tokens, v.source_rank
    LIMIT 5000
    """  # noqa: S608  (_PRICE_SCOPE is a constant; every value is bound)
    return _df(con, sql, _scope(f, search, used_only))


def price_history(con: duckdb.DuckDBPyConnection, provider: str, model_id: str) -> pd.DataFrame:
    """Every standard, untiered, all-day version of one model, per source, oldest first."""
    sql = """
    SELECT source, source_rank,
        CASE WHEN valid_from = TIMESTAMP '1970-01-01' THEN coalesce(first_observed_at, valid_from)
             ELSE valid_from END AS valid_from,
        valid_to, input_per_mtok, cached_input_per_mtok, output_per_mtok
    FROM model_prices
    WHERE provider = ? AND model_id = ? AND variant = 'standard' AND tier_min_prompt_tokens = 0
      AND window_start_utc IS NULL
    ORDER BY source_rank, valid_from
    """
    return _df(con, sql, [provider, model_id])


def price_changes(
    con: duckdb.DuckDBPyConnection, f: Filters, search: str = "", used_only: bool = True
) -> pd.DataFrame:
    sql = f"""
    SELECT v.changed_at, v.provider, v.model_id, v.source, v.variant,
        v.tier_min_prompt_tokens AS above_prompt_tokens,
        v.prev_input_per_mtok, v.input_per_mtok, v.prev_output_per_mtok, v.output_per_mtok
    FROM price_changes v
    WHERE {_PRICE_SCOPE}
    ORDER BY v.changed_at DESC, v.provider, v.model_id LIMIT 500
    """  # noqa: S608  (_PRICE_SCOPE is a constant; every value is bound)
    return _df(con, sql, _scope(f, search, used_only))


def pending_reviews(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    sql = """SELECT detected_at, source, provider, model_id, kind, detail
        FROM pending_price_reviews ORDER BY detected_at DESC, provider, model_id"""
    return _df(con, sql, [])


def unpriced_models(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    sql = """
    SELECT provider, model, attempts, logical_requests, prompt_tokens, output_tokens,
        priced_from_gateway, reported_cost_usd, first_seen, last_seen, reason
    FROM unpriced_usage
    WHERE (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], coalesce(provider, '(none)')))
      AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], model))
    ORDER BY attempts DESC, provider, model
    """
    p, m = list(f.providers) or None, list(f.models) or None
    return _df(con, sql, [p, p, m, m])


# -- data health ----------------------------------------------------------------------------------


def loads_by_source(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    sql = """SELECT source, last_success_at, last_status, loads, rows_loaded, duplicates,
        quarantined, failed, interrupted, last_error FROM log_sources ORDER BY source"""
    return _df(con, sql, [])


def recent_loads(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pd.DataFrame:
    sql = """SELECT started_at, ended_at, source, file, status, rows_loaded, duplicates,
        quarantined, bytes_read, error FROM file_loads ORDER BY started_at DESC LIMIT ?"""
    return _df(con, sql, [limit])


def quarantine_by_reason(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    sql = """SELECT reason, rows, files, first_at, last_at FROM quarantine_reasons
        ORDER BY rows DESC, reason"""
    return _df(con, sql, [])


def quarantine_samples(con: duckdb.DuckDBPyConnection, per_reason: int = 5) -> pd.DataFrame:
    sql = """SELECT reason, source_file AS file, source_line AS line, detail, raw_excerpt
        FROM quarantined_rows
        QUALIFY row_number() OVER (PARTITION BY reason ORDER BY quarantined_at DESC,
                                   source_file, source_line) <= ?
        ORDER BY reason, file, line"""
    return _df(con, sql, [per_reason])


def freshness(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """UTC times of the newest attempt and of the last successful load."""
    has = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'attempts'"
    ).fetchall()[0][0]
    last_attempt = (
        con.execute("SELECT max(started_at) FROM attempts").fetchall()[0][0] if has else None
    )
    last_load = con.execute("SELECT max(last_success_at) FROM log_sources").fetchall()[0][0]
    return {"last_attempt_at": last_attempt, "last_load_at": last_load}


def price_sources(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    sql = """SELECT source, status, last_success_at, last_attempt_at, models, changed,
        pending_review, error FROM price_sources ORDER BY source"""
    return _df(con, sql, [])


def job_runs(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    sql = """SELECT job, started_at, ended_at, status, detail FROM job_run_log
        ORDER BY started_at DESC LIMIT ?"""
    return _df(con, sql, [limit])


# -- reports (the Reports page) -------------------------------------------------------------------


def _has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the mart ``name`` exists (a warehouse may predate it until it is migrated)."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?", [name]
    ).fetchall()
    return bool(row[0][0])


def report_deliveries(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[dict[str, Any]]:
    """The weekly reports' deliveries, newest first."""
    if not _has_view(con, "report_delivery_log"):
        return []
    sql = """SELECT week, channel, target, status, attempts, sent_at, trigger, detail
        FROM report_delivery_log ORDER BY sent_at DESC LIMIT ?"""
    return rows(con.execute(sql, [limit]))


def budget_alerts(con: duckdb.DuckDBPyConnection, limit: int = 100) -> list[dict[str, Any]]:
    """The budget alerts claimed, newest first."""
    if not _has_view(con, "budget_alert_log"):
        return []
    sql = """SELECT month, scope, scope_value, threshold, basis, budget_usd, spend_usd,
        projected_usd, detected_at, status, channels, detail
        FROM budget_alert_log ORDER BY detected_at DESC LIMIT ?"""
    return rows(con.execute(sql, [limit]))
