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
``quarantine_reasons``, ``quarantined_rows``, ``price_sources``, ``source_read_log``, ``job_run_log``,
``report_delivery_log``, ``budget_alert_log``), never the tables themselves; a test
(tests/app/test_reads_marts_only.py) holds every SQL string here to relations in ``sql/marts/``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
    """Whether the marts exist and hold attempts, the span of local days they cover, and when
    the read snapshot was published if that is what ``con`` reads (a writer holds the
    warehouse), else None."""
    has = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'attempts'"
    ).fetchall()[0][0]
    if not has:
        return {
            "marts": False,
            "attempts": 0,
            "first_day": None,
            "last_day": None,
            "snapshot_at": None,
        }
    n, first, last = con.execute(
        "SELECT sum(attempts), min(local_day), max(local_day) FROM spend_per_day"
    ).fetchall()[0]
    snapshot_at = con.execute("SELECT published_at FROM read_snapshot").fetchall()[0][0]
    return {
        "marts": True,
        "attempts": int(n or 0),
        "first_day": first,
        "last_day": last,
        "snapshot_at": snapshot_at,
    }


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
    known part of each (unpriced attempts add nothing), the week's and month's unpriced
    attempts (``week_unpriced``, ``month_unpriced``) to tell it by (:mod:`app.money`), and the
    attempts of the previous ones up to the same day (``prev_week_to_date_attempts``,
    ``prev_month_to_date_attempts``: none means there is nothing to compare with)."""
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
        coalesce(sum(unpriced_attempts) FILTER (WHERE local_month = ?), 0) AS month_unpriced,
        coalesce(sum(attempts) FILTER (WHERE local_week = ? AND local_day - local_week <= ?), 0)
            AS prev_week_to_date_attempts,
        coalesce(sum(attempts) FILTER (WHERE local_month = ? AND local_day - local_month <= ?), 0)
            AS prev_month_to_date_attempts
    FROM rl_f_spend(?, ?, ?, ?, ?, ?)
    """
    window = f._replace(since=min(prev_week, prev_month)).params()
    params = [week, prev_week, prev_week, elapsed_w, month, prev_month, prev_month, elapsed_m]
    to_date = [prev_week, elapsed_w, prev_month, elapsed_m]
    row = _df(con, sql, [*params, week, month, *to_date, *window]).iloc[0]
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


def previous_range(current: Filters) -> Filters:
    """``current`` over the previous period of equal length: the same number of local days
    ending the day before ``current.since`` (the headline's comparison; no query)."""
    days = (current.until - current.since).days + 1
    since, until = current.since - timedelta(days=days), current.since - timedelta(days=1)
    return current._replace(since=since, until=until)


def attempt_fallbacks(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, int]:
    """Of the filtered attempts (the selected models' own), how many were followed by an attempt
    on another model: a fallback away from them (the pairs :func:`fallbacks_from` lists)."""
    sql = """
    SELECT count(*) AS attempts, count(n.attempt_id) AS fell_back
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?) a
    LEFT JOIN rl_attempts() n
      ON n.logical_request_id = a.logical_request_id AND n.attempt_index = a.attempt_index + 1
     AND n.model <> a.model AND n.local_day >= ?
    """
    row = _df(con, sql, [*f.params(), f.since]).iloc[0]
    return {"attempts": int(row["attempts"]), "fell_back": int(row["fell_back"])}


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


# The rates of a period from its attempt (a) and request (r) counts.
_RATES = """coalesce(attempts, 0) AS attempts,
        coalesce(failed_attempts, 0) AS failed_attempts,
        failed_attempts / attempts AS error_rate,
        coalesce(requests, 0) AS requests,
        retried / requests AS retry_rate,
        fell_back / requests AS fallback_rate,
        failed_requests / requests AS request_failure_rate"""
_REQUEST_COUNTS = """count(*) AS requests,
            count(*) FILTER (WHERE retried) AS retried,
            count(*) FILTER (WHERE fell_back) AS fell_back,
            count(*) FILTER (WHERE NOT succeeded) AS failed_requests"""


def reliability_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per day: attempt error rate; logical requests' retry, fallback and failure rates."""
    sql = f"""
    WITH a AS (
        SELECT local_day, sum(attempts)::BIGINT AS attempts,
            sum(attempts - successes)::BIGINT AS failed_attempts
        FROM rl_f_spend(?, ?, ?, ?, ?, ?) GROUP BY local_day
    ),
    r AS (
        SELECT local_day, {_REQUEST_COUNTS}
        FROM rl_f_requests(?, ?, ?, ?, ?, ?) GROUP BY local_day
    )
    SELECT local_day, {_RATES}
    FROM a FULL JOIN r USING (local_day) ORDER BY local_day
    """  # noqa: S608  (_RATES is a constant)
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


# A local hour of a UTC start time; the time zone is a bound parameter.
_LOCAL_HOUR = "date_trunc('hour', timezone(?, started_at::TIMESTAMPTZ)::TIMESTAMP)"


def reliability_over_time(con: duckdb.DuckDBPyConnection, f: Filters, tz: str) -> pd.DataFrame:
    """:func:`reliability_by_day`'s rates per ``bucket``: a local hour (in ``tz``) on a range of
    :data:`HOURLY_MAX_DAYS` days or less, where a rate-limit storm shows, else a local day. Per
    hour, the attempts count from the attempts mart and the requests by their start; the sums
    over a day's hours are that day's figures."""
    if not hourly(f):
        return reliability_by_day(con, f).rename(columns={"local_day": "bucket"})
    sql = f"""
    WITH a AS (
        SELECT {_LOCAL_HOUR} AS bucket, count(*) AS attempts,
            count(*) FILTER (WHERE status <> 'success') AS failed_attempts
        FROM rl_f_attempts(?, ?, ?, ?, ?, ?) GROUP BY 1
    ),
    r AS (
        SELECT {_LOCAL_HOUR} AS bucket, {_REQUEST_COUNTS}
        FROM rl_f_requests(?, ?, ?, ?, ?, ?) GROUP BY 1
    )
    SELECT bucket, {_RATES}
    FROM a FULL JOIN r USING (bucket) ORDER BY bucket
    """  # noqa: S608  (constants; the time zone is bound)
    return _df(con, sql, [tz, *f.params(), tz, *f.params()])


def attempt_reliability_over_time(
    con: duckdb.DuckDBPyConnection, f: Filters, tz: str
) -> pd.DataFrame:
    """:func:`attempt_reliability_by_day` per ``bucket`` (a local hour on a short range, as
    :func:`reliability_over_time`)."""
    if not hourly(f):
        return attempt_reliability_by_day(con, f).rename(columns={"local_day": "bucket"})
    sql = f"""
    SELECT {_LOCAL_HOUR} AS bucket, count(*) AS attempts,
        count(*) FILTER (WHERE status <> 'success') AS failed_attempts,
        count(*) FILTER (WHERE status <> 'success') / count(*) AS error_rate,
        count(*) FILTER (WHERE followed_by_another) AS followed_by_another,
        count(*) FILTER (WHERE followed_by_another) / count(*) AS retry_share
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
    GROUP BY 1 ORDER BY 1
    """  # noqa: S608  (_LOCAL_HOUR is a constant; the time zone is bound)
    return _df(con, sql, [tz, *f.params()])


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


# -- incidents ------------------------------------------------------------------------------------

INCIDENT_COLUMNS = (
    *("incident_id", "kind", "grain", "provider", "model", "start_at", "end_at", "first_day"),
    *("last_day", "value", "baseline", "ratio", "affected", "n", "summary", "page"),
)


def incidents(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The ``incidents`` mart's incidents touching the local days of ``f`` whose subject the
    provider and model filters select (an incident is a provider's or a model's: the task and
    team filters do not apply), newest first; none on a warehouse not migrated to the mart yet
    (the next ingest or ``serve`` run migrates it)."""
    if not _has_view(con, "incidents"):
        import pandas as pd  # noqa: PLC0415  (the CLI imports this module without pandas)

        return pd.DataFrame(columns=list(INCIDENT_COLUMNS))
    sql = """
    SELECT incident_id, kind, grain, provider, model, start_at, end_at, first_day, last_day,
        value, baseline, ratio, affected, n, summary, page
    FROM incidents
    WHERE first_day <= ? AND last_day >= ?
      AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], coalesce(provider, '(none)')))
      AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], model))
    ORDER BY start_at DESC, kind, provider, model
    """
    p, m = list(f.providers) or None, list(f.models) or None
    return _df(con, sql, [f.until, f.since, p, p, m, m])


def claim_incidents(con: duckdb.DuckDBPyConnection, since: datetime, detected_at: datetime) -> int:
    """Claim for an alert every incident still going on at or after ``since`` (UTC) that was
    never claimed: a ``pending`` row of the state table ``incident_alerts`` each; how many were
    claimed. With :func:`finish_incident_alerts`, the only writes here (the incident alert
    job's, :func:`app.reports.alerts.check_incidents`); reads go through the marts."""
    sql = """
    INSERT INTO incident_alerts (incident_id, kind, provider, model, start_at, end_at, summary,
        page, detected_at, status, attempts)
    SELECT incident_id, kind, provider, model, start_at, end_at, summary, page, ?, 'pending', 0
    FROM incidents
    WHERE end_at >= ? AND incident_id NOT IN (SELECT incident_id FROM incident_alert_log)
    ORDER BY start_at
    ON CONFLICT DO NOTHING
    """
    return int(con.execute(sql, [detected_at, since]).fetchall()[0][0])


def incident_alerts_due(con: duckdb.DuckDBPyConnection, max_attempts: int) -> list[dict[str, Any]]:
    """Claimed incident alerts not delivered yet (pending, or failed fewer than
    ``max_attempts`` times), oldest first."""
    sql = """SELECT incident_id, kind, provider, model, start_at, end_at, summary, page,
        detected_at, status, attempts
        FROM incident_alert_log WHERE status IN ('pending', 'failed') AND attempts < ?
        ORDER BY start_at, incident_id"""
    return rows(con.execute(sql, [max_attempts]))


def finish_incident_alerts(
    con: duckdb.DuckDBPyConnection,
    ids: list[str],
    status: str,
    channels: str,
    detail: str | None,
) -> None:
    """Record how the delivery of the incident alerts ``ids`` went (one more attempt each)."""
    con.execute(
        "UPDATE incident_alerts SET status = ?, channels = ?, detail = ?, attempts = attempts + 1 "
        "WHERE list_contains(?, incident_id)",
        [status, channels, detail, list(ids)],
    )


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


def remote_sources(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each bucket and PostgreSQL source: last read, lag of its newest record, rows, errors."""
    sql = """SELECT source, kind, last_read_at, last_ok_at, newest_at, rows_last, rows_total,
        errors_total, error FROM source_read_log ORDER BY source"""
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


# -- request explorer -----------------------------------------------------------------------------

EXPLORER_PAGE = "views/explorer.py"  # st.page_link / st.switch_page target
EXPLORER_URL_PATH = "explorer"  # the page's URL path (Streamlit names it after the file)
EXPLORER_PAGE_SIZE = 50
HOURLY_MAX_DAYS = 3  # a range of at most this many local days is charted per local hour
OUTCOMES = ("succeeded", "failed")
YES_NO = ("yes", "no")
# The sidebar's filters as app.ui writes them to the URL (ui.URL_PARAMS; a test keeps the two
# in step): a link carries them, so the explorer opens on the same requests in a new tab too.
SIDEBAR_PARAMS = {"providers": "provider", "models": "model", "tasks": "task", "teams": "team"}


class Narrowing(NamedTuple):
    """The request explorer's own narrowing, on top of the sidebar's filters (days, provider,
    model, task, team); None means any. Each field is also the explorer's query parameter of
    the same name (:func:`explorer_params`).

    ``status`` is the request's outcome (``succeeded``: its last attempt succeeded, or
    ``failed``); ``retried`` and ``fell_back`` are ``yes`` or ``no``; ``hour`` is the local hour
    (0-23) the request started in. ``error_class``, ``key_alias`` and ``user`` match a request
    when one of its attempts has them all, on a selected provider and model when the sidebar
    selects some (an error class is that of a failed attempt, ``other`` when the log gave none)."""

    status: str | None = None
    retried: str | None = None
    fell_back: str | None = None
    error_class: str | None = None
    hour: int | None = None
    key_alias: str | None = None
    user: str | None = None
    agent: str | None = None  # the request's agent name (its first attempt's)
    conversation: str | None = None  # the request's conversation id (its first attempt's)

    @property
    def by_attempt(self) -> bool:
        """Whether an attempt of the request must match (a join on the matching attempts)."""
        return any(v is not None for v in (self.error_class, self.key_alias, self.user))


def explorer_params(f: Filters | None = None, **narrowing: Any) -> dict[str, list[str]]:
    """The explorer's query parameters: the sidebar's filters ``f`` carried over (``since``,
    ``until``, ``provider``, ``model``, ``task``, ``team``), then the given narrowing, which
    wins: ``day`` (that local day: ``since`` = ``until``), ``since``, ``until``, ``provider``,
    ``model``, ``task``, ``team`` (a value or a list), any :class:`Narrowing` field
    (``status="failed"``, ``hour=14``, ``error_class="rate_limit"``, ``retried=True``, ...) and
    ``request`` (a logical request id to open). Dates become ISO days, booleans ``yes``/``no``;
    None leaves a parameter out (and drops a filter carried from ``f``). Pass it to
    ``st.page_link(queries.EXPLORER_PAGE, query_params=...)`` or ``st.switch_page``;
    :func:`explorer_url` gives a URL. A link names every filter it wants: the sidebar takes
    the filters of a URL it did not write as the whole view."""
    out: dict[str, list[str]] = {}
    if f is not None:
        out["since"], out["until"] = [f.since.isoformat()], [f.until.isoformat()]
        for name, param in SIDEBAR_PARAMS.items():
            if getattr(f, name):
                out[param] = list(getattr(f, name))
    day = narrowing.pop("day", None)
    if day is not None:
        narrowing["since"] = narrowing["until"] = day
    known = {"since", "until", *SIDEBAR_PARAMS.values(), *Narrowing._fields, "request"}
    for name, value in narrowing.items():
        if name not in known:
            raise ValueError(
                f"the explorer has no parameter {name!r} (one of day, {', '.join(sorted(known))})"
            )
        if value is None:
            out.pop(name, None)
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        out[name] = [_param_text(v) for v in values]
    for name, allowed in (("status", OUTCOMES), ("retried", YES_NO), ("fell_back", YES_NO)):
        if name in out and out[name][0] not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {out[name][0]!r}")
    return out


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def explorer_url(f: Filters | None = None, **narrowing: Any) -> str:
    """A relative URL of the explorer (:func:`explorer_params`), e.g.
    ``explorer?since=2026-10-01&until=2026-10-01&task=extract&status=failed``: for
    ``st.column_config.LinkColumn`` or a Markdown link."""
    from urllib.parse import urlencode

    params = explorer_params(f, **narrowing)
    return EXPLORER_URL_PATH + ("?" + urlencode(params, doseq=True) if params else "")


def hourly(f: Filters) -> bool:
    """Whether charts of ``f``'s range are per local hour (a short range) or per local day."""
    return (f.until - f.since).days + 1 <= HOURLY_MAX_DAYS


# The requests the sidebar's filters and the narrowing match. The attempt-level part is added
# as text only when asked (a bound flag would leave its join in the plan), as a join on the
# distinct matching ids: DuckDB builds an IN or SEMI JOIN's hash table on the requests instead.
_EXPLORER_FROM = """
    SELECT r.* FROM rl_f_requests($since, $until, $providers, $models, $tasks, $teams) r
"""
_EXPLORER_BY_ATTEMPT = """
    JOIN (
        SELECT DISTINCT logical_request_id FROM rl_attempts()
        WHERE local_day >= $since  -- a request's attempts start on or after its first day
          AND ($providers IS NULL OR list_contains($providers, coalesce(provider, '(none)')))
          AND ($models IS NULL OR list_contains($models, model))
          AND ($error_class IS NULL
               OR (status <> 'success' AND coalesce(error_class, 'other') = $error_class))
          AND ($key_alias IS NULL OR key_alias = $key_alias)
          AND ($user IS NULL OR user_id = $user)
    ) hits USING (logical_request_id)
"""
_EXPLORER_WHERE = """
    WHERE ($status IS NULL OR r.succeeded = ($status = 'succeeded'))
      AND ($retried IS NULL OR r.retried = ($retried = 'yes'))
      AND ($fell_back IS NULL OR r.fell_back = ($fell_back = 'yes'))
      AND ($hour IS NULL OR hour(timezone($tz, r.started_at::TIMESTAMPTZ)) = $hour)
      AND ($agent IS NULL OR r.agent_name = $agent)
      AND ($conversation IS NULL OR r.conversation_id = $conversation)
"""
_MATCHED = "/* matched */"


def _explorer_sql(template: str, n: Narrowing) -> str:
    """``template`` with the matched requests' SELECT in place of its placeholder (constants
    only: every value stays a bound parameter)."""
    by_attempt = _EXPLORER_BY_ATTEMPT if n.by_attempt else ""
    return template.replace(_MATCHED, _EXPLORER_FROM + by_attempt + _EXPLORER_WHERE)


def _named(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """``sql`` with the named parameters (``$name``) it uses, from ``params``."""
    import re

    used = set(re.findall(r"\$([a-z_]\w*)", sql))
    _prepare(con)
    return con.execute(sql, {k: v for k, v in params.items() if k in used}).df()


def _explorer_params(f: Filters, n: Narrowing, tz: str) -> dict[str, Any]:
    since, until, providers, models, tasks, teams = f.params()
    return {
        **n._asdict(),
        "since": since,
        "until": until,
        "providers": providers,
        "models": models,
        "tasks": tasks,
        "teams": teams,
        "tz": tz,
    }


def _scalars(df: pd.DataFrame) -> dict[str, Any]:
    """The one row of ``df`` as plain Python values (each column's own type; NULL as None); every
    value None when nothing matched (no row)."""
    if df.empty:
        return {str(k): None for k in df.columns}
    row = df.astype(object).where(df.notna(), None).iloc[0]
    return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}


def explorer_summary(
    con: duckdb.DuckDBPyConnection, f: Filters, n: Narrowing, tz: str
) -> dict[str, Any]:
    """Counts over every request the filters and narrowing match: requests, succeeded,
    retried, fell back, attempts, spend (NULL when nothing is priced) and unpriced attempts."""
    sql = _explorer_sql(
        """
        WITH matched AS (/* matched */)
        SELECT count(*) AS requests,
            count(*) FILTER (WHERE succeeded) AS succeeded,
            count(*) FILTER (WHERE retried) AS retried,
            count(*) FILTER (WHERE fell_back) AS fell_back,
            coalesce(sum(attempts), 0)::BIGINT AS attempts,
            sum(cost_usd) AS spend_usd,
            coalesce(sum(unpriced_attempts), 0)::BIGINT AS unpriced_attempts
        FROM matched
        """,
        n,
    )
    return _scalars(_named(con, sql, _explorer_params(f, n, tz)))


def explorer_requests(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    n: Narrowing,
    tz: str,
    page: int = 1,
    page_size: int = EXPLORER_PAGE_SIZE,
) -> pd.DataFrame:
    """One page of the matched requests, newest first (LIMIT/OFFSET: never all of them), with
    each request's model chain and the error classes of its failed attempts, in order."""
    sql = _explorer_sql(
        """
        WITH matched AS (/* matched */),
        page AS (
            SELECT logical_request_id, started_at, local_day, task, team, succeeded, attempts,
                chain, latency_ms, cost_usd, unpriced_attempts, prompt_tokens, output_tokens,
                agent_name, conversation_id
            FROM matched
            ORDER BY started_at DESC, logical_request_id DESC LIMIT $limit OFFSET $offset
        )
        SELECT timezone($tz, started_at::TIMESTAMPTZ)::TIMESTAMP AS started_local,
            logical_request_id, task, coalesce(team, '(none)') AS team,
            agent_name AS agent, conversation_id AS conversation,
            CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END AS outcome,
            attempts, array_to_string(chain, ' → ') AS models, NULL::VARCHAR AS errors,
            latency_ms, cost_usd, unpriced_attempts, prompt_tokens, output_tokens, local_day
        FROM page ORDER BY started_at DESC, logical_request_id DESC
        """,
        n,
    )
    params = _explorer_params(f, n, tz)
    params.update(limit=int(page_size), offset=max(int(page) - 1, 0) * int(page_size))
    df = _named(con, sql, params)
    retried = df.loc[(df["attempts"] > 1) | (df["outcome"] == "failed")]
    if len(retried):  # the failed attempts of this page's requests: a bound day prunes the scan
        errors = _named(
            con,
            """
            SELECT logical_request_id,
                string_agg(coalesce(error_class, 'other'), ' → ' ORDER BY attempt_index) AS errors
            FROM rl_attempts()
            WHERE local_day >= $since AND status <> 'success'
              AND list_contains($ids, logical_request_id)
            GROUP BY logical_request_id
            """,
            {
                "since": retried["local_day"].min().date(),
                "ids": list(retried["logical_request_id"]),
            },
        )
        df["errors"] = df["logical_request_id"].map(
            dict(zip(errors["logical_request_id"], errors["errors"], strict=True))
        )
    return df


def explorer_over_time(
    con: duckdb.DuckDBPyConnection, f: Filters, n: Narrowing, tz: str
) -> pd.DataFrame:
    """The matched requests per local hour (a range of :data:`HOURLY_MAX_DAYS` days or less)
    or local day, by outcome."""
    sql = _explorer_sql(
        """
        WITH matched AS (/* matched */)
        SELECT CASE WHEN $hourly
                    THEN date_trunc('hour', timezone($tz, started_at::TIMESTAMPTZ)::TIMESTAMP)
                    ELSE local_day::TIMESTAMP END AS bucket,
            CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END AS outcome,
            count(*) AS requests
        FROM matched GROUP BY ALL ORDER BY bucket, outcome
        """,
        n,
    )
    return _named(con, sql, {**_explorer_params(f, n, tz), "hourly": hourly(f)})


def request_attempts(
    con: duckdb.DuckDBPyConnection, logical_request_id: str, since: date | None = None
) -> pd.DataFrame:
    """Every attempt of one logical request in order: when it started (ms after the request's
    first start) and how long it ran, where, its outcome, tokens and cost with its basis. The
    strings are as the marts hold them (redacted at ingest). ``since`` (the request's local
    day, when known) lets the scan skip older data. ``unlogged_attempts`` (the request's, on
    every row) counts the attempts its gateway made but did not log (docs/log-formats.md)."""
    sql = """
    SELECT attempt_index,
        date_diff('microsecond', min(started_at) OVER (), started_at) / 1000.0 AS start_offset_ms,
        date_diff('microsecond', started_at, ended_at) / 1000.0 AS duration_ms,
        ttft_ms, started_at,
        coalesce(provider, '(none)') AS provider, model, served_model, model_snapshot,
        status, error_class, error_type, http_status, gateway_cache_hit, validation_passed,
        prompt_tokens, cache_read_tokens AS cached_tokens,
        cache_write_5m_tokens + cache_write_1h_tokens AS cache_write_tokens,
        output_tokens, reasoning_tokens,
        cost_usd, cost_basis, reported_cost_usd, price_source, billing_policy,
        task, coalesce(team, '(none)') AS team, key_alias, user_id, attempt_id,
        (SELECT unlogged_attempts FROM logical_requests WHERE logical_request_id = $id)
            AS unlogged_attempts
    FROM rl_attempts()
    WHERE logical_request_id = $id AND ($since IS NULL OR local_day >= $since)
    ORDER BY attempt_index
    """
    return _named(con, sql, {"id": logical_request_id, "since": since})


# -- tokens and cache -----------------------------------------------------------------------------
#
# Token figures count what went to a provider: attempts answered from the gateway's own response
# cache (``gateway_cache_hit``: cost 0, tokens replayed) are counted apart. Output tokens include
# reasoning tokens (the marts normalise both ways of counting), so the classes below add up:
# input (fresh) + cache read + cache write = prompt; output (visible) + reasoning = output.

TOKEN_CLASSES = {  # column: label, in stacking order
    "input_tokens": "input (fresh)",
    "cache_read_tokens": "cache read",
    "cache_write_tokens": "cache write",
    "visible_output_tokens": "output (visible)",
    "reasoning_tokens": "reasoning",
}
TOKEN_GROUPINGS = ("model", "task")

_TOKEN_SUMS = """
    coalesce(sum(fresh_input_tokens) FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT
        AS input_tokens,
    coalesce(sum(cache_read_tokens) FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT
        AS cache_read_tokens,
    coalesce(sum(cache_write_5m_tokens + cache_write_1h_tokens)
        FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT AS cache_write_tokens,
    coalesce(sum(greatest(output_tokens - reasoning_tokens, 0))
        FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT AS visible_output_tokens,
    coalesce(sum(reasoning_tokens) FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT
        AS reasoning_tokens,
    coalesce(sum(prompt_tokens) FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT
        AS prompt_tokens,
    coalesce(sum(output_tokens) FILTER (WHERE NOT gateway_cache_hit), 0)::BIGINT
        AS output_tokens,
    sum(cache_read_tokens) FILTER (WHERE NOT gateway_cache_hit)
        / nullif(sum(prompt_tokens) FILTER (WHERE NOT gateway_cache_hit), 0) AS cache_hit_rate,
    count(*) AS attempts,
    count(*) FILTER (WHERE gateway_cache_hit) AS gateway_cache_hits,
    count(*) FILTER (WHERE gateway_cache_hit) / count(*) AS gateway_hit_rate
"""
# Per group (:func:`token_totals`: one): the token sums, then what the caches saved. The prompt
# cache: cache-read tokens per group and price version (the price in force of each attempt),
# valued through cache_savings; not-billed failures saved nothing, gateway cache hits are apart.
# The gateway's cache: what its hits would have cost at the price in force. Each is NULL, never
# $0, when none of what it covers has a price, and $0 when there is nothing to cover.
_TOKENS_AND_SAVINGS = f"""
WITH a AS (
    SELECT CASE ? WHEN 'task' THEN task WHEN 'model' THEN model ELSE '(all)' END AS grp,
        fresh_input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
        output_tokens, reasoning_tokens, prompt_tokens, gateway_cache_hit, computed_cost_usd,
        cost_basis, price_version_id
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
),
t AS (
    SELECT grp, {_TOKEN_SUMS},
        coalesce(sum(computed_cost_usd) FILTER (WHERE gateway_cache_hit),
            CASE WHEN count(*) FILTER (WHERE gateway_cache_hit) = 0 THEN 0 END)
            AS gateway_cache_saved_usd,
        count(*) FILTER (WHERE gateway_cache_hit AND computed_cost_usd IS NULL)
            AS gateway_unpriced_hits
    FROM a GROUP BY grp
),
reads AS (
    SELECT grp, price_version_id, sum(cache_read_tokens) AS tokens, count(*) AS attempts
    FROM a
    WHERE NOT gateway_cache_hit AND cache_read_tokens > 0 AND cost_basis <> 'not_billed'
    GROUP BY grp, price_version_id
),
saved AS (
    SELECT r.grp, sum(r.tokens * s.saved_per_mtok * 0.000001) AS saved_usd,
        coalesce(sum(r.attempts) FILTER (WHERE s.price_version_id IS NULL), 0) AS unpriced
    FROM reads r LEFT JOIN cache_savings s ON s.price_version_id = r.price_version_id
    GROUP BY r.grp
)
SELECT t.*,
    CASE WHEN v.grp IS NULL THEN 0 ELSE v.saved_usd END AS prompt_cache_saved_usd,
    coalesce(v.unpriced, 0)::BIGINT AS cached_unpriced_attempts
FROM t LEFT JOIN saved v USING (grp)
ORDER BY t.prompt_tokens + t.output_tokens DESC, t.grp
"""  # noqa: S608  (_TOKEN_SUMS is a constant; every value is bound)


def token_totals(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    """Token classes, the prompt-cache hit rate (cache-read / prompt tokens), the gateway's
    cache hits and what each cache saved, over the filtered attempts."""
    return _scalars(_df(con, _TOKENS_AND_SAVINGS, ["all", *f.params()]).drop(columns="grp"))


def tokens_over_time(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """The token classes and the prompt-cache hit rate per local hour (a range of
    :data:`HOURLY_MAX_DAYS` days or less) or local day."""
    sql = f"""
    SELECT CASE WHEN ? THEN date_trunc('hour', started_local) ELSE local_day::TIMESTAMP END
            AS bucket,
        {_TOKEN_SUMS}
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
    GROUP BY bucket ORDER BY bucket
    """  # noqa: S608  (_TOKEN_SUMS is a constant; every value is bound)
    return _df(con, sql, [hourly(f), *f.params()])


def cache_rate_over_time(con: duckdb.DuckDBPyConnection, f: Filters, top: int = 8) -> pd.DataFrame:
    """The prompt-cache hit rate per local hour or day of the ``top`` models by prompt tokens
    (only models that read from a cache at all), with the prompt tokens it is over."""
    sql = """
    WITH ranked AS (
        SELECT model FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
        WHERE NOT gateway_cache_hit
        GROUP BY model HAVING sum(cache_read_tokens) > 0
        ORDER BY sum(prompt_tokens) DESC, model LIMIT ?
    )
    SELECT CASE WHEN ? THEN date_trunc('hour', started_local) ELSE local_day::TIMESTAMP END
            AS bucket,
        model, sum(prompt_tokens)::BIGINT AS prompt_tokens,
        sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
        sum(cache_read_tokens) / nullif(sum(prompt_tokens), 0) AS cache_hit_rate
    FROM rl_f_attempts(?, ?, ?, ?, ?, ?)
    WHERE NOT gateway_cache_hit AND model IN (SELECT model FROM ranked)
    GROUP BY ALL ORDER BY bucket, model
    """
    return _df(con, sql, [*f.params(), top, hourly(f), *f.params()])


def tokens_by(con: duckdb.DuckDBPyConnection, f: Filters, by: str) -> pd.DataFrame:
    """Per model or task: the token classes, the prompt-cache hit rate, the gateway's cache
    hits and what each cache saved, the biggest token users first."""
    if by not in TOKEN_GROUPINGS:
        raise ValueError(f"grouping must be one of {', '.join(TOKEN_GROUPINGS)}, got {by!r}")
    return _df(con, _TOKENS_AND_SAVINGS, [by, *f.params()])


def output_caps(
    con: duckdb.DuckDBPyConnection, f: Filters, caps: tuple[tuple[str, int], ...]
) -> pd.DataFrame:
    """Output tokens of the answers (attempts that returned output, gateway cache hits left
    out) per task and model against the task's ``max_output_tokens`` (``caps``: (task, cap)
    pairs from the routing manifest), and how many reached it (output tokens >= cap); a row
    per task over all its models too (``model`` = ``(all models)``, ``is_task_total``).
    ``at_cap`` and ``cap_hit_rate`` are NULL for a task without a cap."""
    sql = """
    WITH caps AS (
        SELECT unnest(?::VARCHAR[]) AS task, unnest(?::BIGINT[]) AS cap
    ),
    answers AS (
        SELECT a.task, a.model, a.output_tokens, c.cap
        FROM rl_f_attempts(?, ?, ?, ?, ?, ?) a LEFT JOIN caps c USING (task)
        WHERE NOT a.gateway_cache_hit AND a.output_tokens > 0
    ),
    g AS (
        SELECT task, model, grouping(model) = 1 AS is_task_total, any_value(cap) AS cap,
            count(*) AS answers,
            quantile_cont(output_tokens, [0.50, 0.95]) AS q,
            max(output_tokens) AS max_output,
            count(*) FILTER (WHERE output_tokens >= cap) AS at_cap
        FROM answers GROUP BY GROUPING SETS ((task, model), (task))
    )
    SELECT task, coalesce(model, '(all models)') AS model, is_task_total,
        cap AS max_output_tokens, answers, round(q[1]) AS p50_output_tokens,
        round(q[2]) AS p95_output_tokens,
        max_output AS most_output_tokens,
        CASE WHEN cap IS NOT NULL THEN at_cap END AS at_cap,
        CASE WHEN cap IS NOT NULL THEN at_cap / answers END AS cap_hit_rate
    FROM g ORDER BY task, is_task_total DESC, answers DESC, model
    """
    tasks = [t for t, _ in caps]
    limits = [int(c) for _, c in caps]
    return _df(con, sql, [tasks, limits, *f.params()])


# -- spend by key and user ------------------------------------------------------------------------

SPEND_BY = ("key", "user", "team", "task", "agent", "conversation")


def spend_by(con: duckdb.DuckDBPyConnection, f: Filters, by: str, limit: int = 200) -> pd.DataFrame:
    """Spend, requests and cost per success per API key (its alias, else ``key <hash
    prefix>``), user, team, task, agent or conversation, the ``limit`` biggest spenders first, with ``groups`` (how
    many there are in all). Cost per success follows DESIGN: per successful request over
    priced requests (``rl_cost_per_success``), or, with a provider or model filter counting the
    selected models' own attempts (``f.per_attempt``), per successful attempt of theirs. Spend
    is NULL when nothing of a group is priced (``unpriced_attempts`` says how much is not)."""
    if by not in SPEND_BY:
        raise ValueError(f"grouping must be one of {', '.join(SPEND_BY)}, got {by!r}")
    sql = """
    WITH a AS (
        SELECT CASE $by
                WHEN 'key' THEN coalesce(key_alias, 'key ' || left(key_hash, 12), '(none)')
                WHEN 'user' THEN coalesce(user_id, '(none)')
                WHEN 'team' THEN coalesce(team, '(none)')
                WHEN 'agent' THEN coalesce(agent_name, '(none)')
                WHEN 'conversation' THEN coalesce(conversation_id, '(none)')
                ELSE task END AS grp,
            logical_request_id, attempt_count, status, followed_by_another, cost_usd, cost_basis
        FROM rl_f_attempts($since, $until, $providers, $models, $tasks, $teams)
    ),
    units AS (
        -- a unit each: an attempt when counting attempts, else a request of one attempt (most
        -- of them: grouping every request by its id would cost ten times as much)
        SELECT grp, CASE WHEN attempt_count > 1 THEN logical_request_id END AS multi_id,
            1 AS attempts, cost_usd, (cost_basis = 'unpriced')::INTEGER AS unpriced_attempts,
            status = 'success' AS succeeded
        FROM a WHERE $per_attempt OR attempt_count = 1
        UNION ALL
        -- a request of several attempts, together: it succeeded when its last attempt did
        SELECT grp, logical_request_id, count(*), sum(cost_usd),
            count(*) FILTER (WHERE cost_basis = 'unpriced'),
            bool_or(status = 'success' AND NOT followed_by_another)
        FROM a WHERE NOT $per_attempt AND attempt_count > 1
        GROUP BY grp, logical_request_id
    ),
    g AS (
        SELECT grp,
            (count(*) FILTER (WHERE multi_id IS NULL) + count(DISTINCT multi_id))::BIGINT
                AS logical_requests,
            sum(attempts)::BIGINT AS attempts,
            count(*) FILTER (WHERE succeeded) AS successes,
            sum(cost_usd) AS spend_usd,  -- NULL when nothing of the group is priced
            sum(unpriced_attempts)::BIGINT AS unpriced_attempts,
            count(*) FILTER (WHERE unpriced_attempts = 0) / count(*) AS price_coverage,
            sum(cost_usd) FILTER (WHERE unpriced_attempts = 0) AS priced_spend_usd,
            count(*) FILTER (WHERE unpriced_attempts = 0 AND succeeded) AS priced_successes
        FROM units GROUP BY grp
    )
    SELECT grp, logical_requests, attempts, successes,
        successes / CASE WHEN $per_attempt THEN attempts ELSE logical_requests END
            AS success_rate,
        spend_usd, unpriced_attempts,
        rl_cost_per_success(priced_spend_usd, priced_successes, price_coverage)
            AS cost_per_success_usd,
        price_coverage,
        rl_cost_unknown_reason(price_coverage, priced_successes,
                               CASE WHEN $per_attempt THEN 'attempt' ELSE 'request' END)
            AS cost_unknown_reason,
        count(*) OVER () AS groups
    FROM g ORDER BY spend_usd DESC NULLS LAST, attempts DESC, grp LIMIT $limit
    """
    since, until, providers, models, tasks, teams = f.params()
    params = {
        "by": by,
        "per_attempt": f.per_attempt,
        "since": since,
        "until": until,
        "providers": providers,
        "models": models,
        "tasks": tasks,
        "teams": teams,
        "limit": int(limit),
    }
    return _named(con, sql, params)


# -- provider bills (the Reconciliation page, `routeledger bills drift`) -------------------------

_BILL_DAYS_SQL = """
SELECT day, provider,
    sum(billed_usd) AS billed_usd,
    sum(recomputed_usd) AS recomputed_usd,
    sum(reported_usd) AS reported_usd,
    sum(billed_usd) - sum(recomputed_usd) AS drift_usd,
    CASE WHEN sum(billed_usd) <> 0
         THEN ((sum(billed_usd) - sum(recomputed_usd)) / sum(billed_usd))::DOUBLE END
        AS drift_share,
    CASE WHEN sum(billed_usd) <> 0 AND count(reported_usd) > 0
         THEN ((sum(billed_usd) - sum(reported_usd)) / sum(billed_usd))::DOUBLE END
        AS reported_drift_share,
    arg_max(origin, abs(coalesce(drift_usd, billed_usd))) AS origin,
    sum(attempts)::BIGINT AS attempts,
    sum(unpriced_attempts)::BIGINT AS unpriced_attempts
FROM bill_reconciliation
WHERE day BETWEEN $since AND $until
  AND ($providers IS NULL OR list_contains($providers, provider))
GROUP BY day, provider
ORDER BY day, provider
"""
"""Per UTC day and provider: the bill against RouteLedger's and the gateway's cost, the drift,
and the origin of the model whose drift is largest (the one figure every surface shows)."""


def _bill_params(since: date, until: date, providers: tuple[str, ...]) -> dict[str, Any]:
    return {"since": since, "until": until, "providers": list(providers) or None}


def bill_drift_days(
    con: duckdb.DuckDBPyConnection, since: date, until: date, providers: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The CLI's rows of :data:`_BILL_DAYS_SQL` (Decimal money)."""
    return rows(con.execute(_BILL_DAYS_SQL, _bill_params(since, until, providers)))


def bill_days(
    con: duckdb.DuckDBPyConnection, since: date, until: date, providers: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The page's frame of the same rows."""
    return _named(con, _BILL_DAYS_SQL, _bill_params(since, until, providers))


def bill_models(
    con: duckdb.DuckDBPyConnection, since: date, until: date, providers: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Per UTC day, provider and model: billed, recomputed, reported, the drifts, the origin."""
    sql = """SELECT day, provider, model, billed_usd, recomputed_usd, reported_usd, drift_usd,
        drift_share, reported_drift_share, origin, attempts, failed_attempts, unpriced_attempts,
        failed_usd, failed_unbilled_usd, cache_drift_usd, billed_tokens, gateway_tokens, exports
        FROM bill_reconciliation
        WHERE day BETWEEN $since AND $until
          AND ($providers IS NULL OR list_contains($providers, provider))
        ORDER BY day DESC, provider, abs(coalesce(drift_usd, billed_usd)) DESC, model"""
    return _named(con, sql, _bill_params(since, until, providers))


def bill_origins(
    con: duckdb.DuckDBPyConnection, since: date, until: date, providers: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Per provider and origin: how much of the drift each origin holds, over the days."""
    sql = """SELECT provider, origin, count(*) AS rows, sum(drift_usd) AS drift_usd,
        sum(billed_usd) AS billed_usd
        FROM bill_reconciliation
        WHERE day BETWEEN $since AND $until
          AND ($providers IS NULL OR list_contains($providers, provider))
        GROUP BY provider, origin
        ORDER BY provider, abs(sum(coalesce(drift_usd, billed_usd))) DESC"""
    return _named(con, sql, _bill_params(since, until, providers))


def bill_classes(
    con: duckdb.DuckDBPyConnection, since: date, until: date, providers: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Per provider and token class, over the days: billed against recomputed, tokens too."""
    sql = """SELECT provider, token_class, sum(billed_usd) AS billed_usd,
        sum(recomputed_usd) AS recomputed_usd, sum(drift_usd) AS drift_usd,
        sum(billed_tokens)::BIGINT AS billed_tokens, sum(gateway_tokens)::BIGINT AS gateway_tokens
        FROM bill_reconciliation_classes
        WHERE day BETWEEN $since AND $until
          AND ($providers IS NULL OR list_contains($providers, provider))
        GROUP BY provider, token_class
        ORDER BY provider, abs(sum(coalesce(drift_usd, 0))) DESC, token_class"""
    return _named(con, sql, _bill_params(since, until, providers))


def bill_span(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The UTC days the bills cover: ``{"first", "last", "providers"}`` (None: no bill)."""
    if not _has_view(con, "bill_reconciliation"):
        return {"first": None, "last": None, "providers": []}
    first, last, providers = con.execute(
        "SELECT min(day), max(day), list(DISTINCT provider ORDER BY provider) "
        "FROM bill_reconciliation"
    ).fetchall()[0]
    return {"first": first, "last": last, "providers": list(providers or [])}
