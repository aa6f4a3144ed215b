"""Every SQL string the tuner runs. Reads the marts (and its own raw tables); values are bound.

The evidence is aggregated in DuckDB, never pulled row by row:

* :data:`PATTERNS_SQL`: ``logical_requests`` grouped by (task, chain of served models, succeeded).
  A request stops at its first success, so every attempt but the last failed and the last one
  succeeded exactly when the request did: the chain and the outcome are the whole sequence of
  (model, outcome) attempts. A few hundred rows, however many requests the window holds. Their
  ``cost`` is the requests' spend exactly as ``task_stats`` sums it (same mart, same days).
* :data:`STAGE_COSTS_SQL`: the same patterns' spend per attempt position, for the requests of
  more than one attempt only (the only join, over retried requests).
* :data:`ATTEMPT_STATS_SQL`: ``attempts`` grouped by (task, provider, model, status): counts,
  costs, validation and quality, the exact P95 of successful attempts, and a grid of latency
  quantiles (the observed latencies the tuner resamples).

None needs a window function, so each stays one pass over its mart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from app.queries import rows as _rows

LATENCY_GRID = tuple(round(i / 100, 2) for i in range(1, 100))  # 0.01 .. 0.99

_GRID_SQL = "[" + ", ".join(str(q) for q in LATENCY_GRID) + "]"

_PATTERN_COLUMNS = """
    count(*) AS n,
    count(*) FILTER (WHERE unpriced_attempts = 0) AS priced_n,
    coalesce(sum(cost_usd) FILTER (WHERE unpriced_attempts = 0), 0) AS priced_cost,
    coalesce(sum(cost_usd), 0) AS cost,
    coalesce(sum(cost_usd::DOUBLE * cost_usd::DOUBLE), 0) AS cost_sq,
    coalesce(sum(unpriced_attempts), 0) AS unpriced_attempts
"""  # cost: the requests' spend as task_stats sums it (unpriced attempts are not summed)

# A request that failed with one of these as its last error failed whatever the chain: the
# client's own request was refused, and the gateway neither retried nor fell back.
UNRESCUABLE = ("bad_request",)


def _unrescuable(r: str = "") -> str:
    """The SQL of "this logical request failed whatever the chain" (``r``: its table alias)."""
    classes = ", ".join(f"'{c}'" for c in UNRESCUABLE)
    return f"(NOT {r}succeeded AND coalesce({r}final_error_class, '') IN ({classes}))"


_UNRESCUABLE_SQL = _unrescuable()
PATTERNS_SQL = f"""
SELECT task, [first_model] AS chain, succeeded, {_UNRESCUABLE_SQL} AS unrescuable,
    {_PATTERN_COLUMNS}
FROM logical_requests
WHERE local_day BETWEEN ? AND ? AND attempts = 1
GROUP BY task, first_model, succeeded, unrescuable
UNION ALL
SELECT task, chain, succeeded, {_UNRESCUABLE_SQL} AS unrescuable, {_PATTERN_COLUMNS}
FROM logical_requests
WHERE local_day BETWEEN ? AND ? AND attempts > 1
GROUP BY task, chain, succeeded, unrescuable
"""  # noqa: S608  (constant columns) requests of one attempt (most) are grouped on a plain
# column, not on a list

# The spend of each attempt position of the patterns of more than one attempt (a request of one
# attempt spends it all on its one stage): what the replay keeps where the proposed chain does
# what the request did. Only retried requests are joined; a request's attempts are on or after
# its first attempt's day (attempts are ordered by start), which prunes the attempts scanned.
STAGE_COSTS_SQL = f"""
SELECT r.task, r.chain, r.succeeded, {_unrescuable("r.")} AS unrescuable, a.attempt_index,
    coalesce(sum(a.cost_usd), 0) AS cost,
    count(*) FILTER (WHERE a.cost_usd IS NULL) AS unpriced_attempts
FROM logical_requests r
JOIN attempts a ON a.logical_request_id = r.logical_request_id
WHERE r.local_day BETWEEN ? AND ? AND r.attempts > 1
    AND a.attempt_count > 1 AND a.local_day >= ?
GROUP BY ALL
"""  # noqa: S608  (constant SQL)

ATTEMPT_STATS_SQL = f"""
SELECT task, coalesce(provider, '') AS provider, model, status = 'success' AS ok,
    count(*) AS n,
    coalesce(sum(cost_usd), 0) AS cost_sum,
    count(cost_usd) AS cost_n,
    coalesce(sum(cost_usd::DOUBLE * cost_usd::DOUBLE), 0) AS cost_sq,
    count(validation_passed) AS validated,
    count(*) FILTER (WHERE validation_passed) AS passed,
    avg(quality_score) AS quality_score,
    count(quality_score) AS scored,
    quantile_cont(latency_ms, 0.95) AS p95_ms,
    quantile_disc(latency_ms, {_GRID_SQL}) AS lat_q
FROM attempts
WHERE local_day BETWEEN ? AND ?
GROUP BY ALL
"""  # noqa: S608  (the grid is a constant of this module)

EVAL_SCORES_SQL = """
WITH latest AS (
    SELECT task, model, max(imported_at) AS imported_at FROM eval_scores GROUP BY task, model
)
SELECT e.task, e.model, avg(e.score) AS score, count(*) AS n, any_value(e.source_file) AS file
FROM eval_scores e JOIN latest l USING (task, model, imported_at)
GROUP BY e.task, e.model
"""

LAST_DAY_SQL = "SELECT max(local_day) FROM attempts"  # the last day with data (app.window)

# The price in force at a time for one priced model: the standard, untiered, all-day version of
# the highest-precedence source (what `routeledger prices show` lists first).
CURRENT_PRICE_SQL = """
SELECT source, output_per_mtok, valid_from
FROM model_prices
WHERE provider = ? AND model_id = ? AND variant = 'standard' AND tier_min_prompt_tokens = 0
  AND window_start_utc IS NULL AND output_per_mtok IS NOT NULL
  AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)
ORDER BY source_rank, source
LIMIT 1
"""


def patterns(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    return _rows(con.execute(PATTERNS_SQL, [since, until, since, until]))


def stage_costs(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    return _rows(con.execute(STAGE_COSTS_SQL, [since, until, since]))


def attempt_stats(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    return _rows(con.execute(ATTEMPT_STATS_SQL, [since, until]))


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?", [name]
    ).fetchall()
    return bool(row[0][0])


def eval_scores(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest imported scores (none when the warehouse predates the eval_scores table)."""
    return _rows(con.execute(EVAL_SCORES_SQL)) if has_table(con, "eval_scores") else []


def current_price(
    con: duckdb.DuckDBPyConnection, provider: str, model_id: str, at: datetime
) -> dict[str, Any] | None:
    rows = _rows(con.execute(CURRENT_PRICE_SQL, [provider, model_id, at, at]))
    return rows[0] if rows else None


def last_day(con: duckdb.DuckDBPyConnection) -> date | None:
    row = con.execute(LAST_DAY_SQL).fetchall()
    return row[0][0] if row else None


# -- approvals and evals (short writes) -----------------------------------------------------------

INSERT_VERSION_SQL = "INSERT INTO manifest_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_DECISION_SQL = """INSERT INTO manifest_decisions
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
VERSIONS_SQL = """
SELECT version, manifest_path, sha256, stored_path, kind, created_at, created_by, comment,
    restored_from
FROM manifest_versions WHERE manifest_path = ? ORDER BY version DESC
"""
DECISIONS_SQL = """
SELECT decision_id, decided_at, decision, decided_by, auth, comment, manifest_path,
    previous_sha256, proposed_sha256, window_since, window_until, version
FROM manifest_decisions WHERE manifest_path = ? ORDER BY decided_at DESC, decision_id
"""
DECISION_SQL = "SELECT previous_sha256 FROM manifest_decisions WHERE decision_id = ?"
STORED_PATHS_SQL = "SELECT stored_path FROM manifest_versions"
NEXT_VERSION_SQL = (
    "SELECT coalesce(max(version), 0) + 1 FROM manifest_versions WHERE manifest_path = ?"
)


def versions(con: duckdb.DuckDBPyConnection, manifest_path: str) -> list[dict[str, Any]]:
    if not has_table(con, "manifest_versions"):
        return []
    return _rows(con.execute(VERSIONS_SQL, [manifest_path]))


def decisions(con: duckdb.DuckDBPyConnection, manifest_path: str) -> list[dict[str, Any]]:
    if not has_table(con, "manifest_decisions"):
        return []
    return _rows(con.execute(DECISIONS_SQL, [manifest_path]))


TUNER_TABLES = ("manifest_versions", "manifest_decisions", "eval_scores")


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tuner's tables if this warehouse predates them."""
    from collectors.warehouse.migrate import ensure_tables as create

    create(con, TUNER_TABLES)


def next_version(con: duckdb.DuckDBPyConnection, manifest_path: str) -> int:
    return int(con.execute(NEXT_VERSION_SQL, [manifest_path]).fetchall()[0][0])


# -- verification after approval ------------------------------------------------------------------

# The latest approval of a manifest not undone since (a rollback after it), with its proposal.
APPROVAL_SQL = """
SELECT decision_id, decided_at, version, proposal, window_until
FROM manifest_decisions
WHERE manifest_path = ? AND decision = 'approved' AND proposal IS NOT NULL
  AND decided_at > coalesce((
      SELECT max(decided_at) FROM manifest_decisions
      WHERE manifest_path = ? AND decision = 'rolled_back'), TIMESTAMP '1970-01-01')
ORDER BY decided_at DESC, decision_id DESC LIMIT 1
"""
# A task's requests that started after ``since`` (UTC), per local day: what verification
# compares with the forecast. Cost per success is the one rule (rl_cost_per_success).
ACTUALS_SQL = """
WITH r AS (
    SELECT * FROM logical_requests WHERE task = ? AND started_at > ?
)
SELECT local_day, count(*) AS requests,
    count(*) FILTER (WHERE succeeded) AS succeeded,
    sum(cost_usd) FILTER (WHERE priced) AS priced_spend,
    count(*) FILTER (WHERE priced) AS priced,
    count(*) FILTER (WHERE priced AND succeeded) AS priced_succeeded,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE succeeded) AS p95_ms,
    rl_cost_per_success(
        sum(cost_usd) FILTER (WHERE priced), count(*) FILTER (WHERE priced AND succeeded),
        count(*) FILTER (WHERE priced) / count(*)) AS cost_per_success_usd
FROM r GROUP BY GROUPING SETS ((local_day), ())
ORDER BY local_day NULLS LAST
"""


MODEL_DRIFT_SQL = """
SELECT coalesce(requested_model, model) AS name, served_model, started_at > ? AS after,
    count(*) AS attempts,
    count(*) FILTER (WHERE status <> 'success') AS failed,
    count(*) FILTER (WHERE status = 'success') AS succeeded,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE status = 'success') AS p95_ms
FROM attempts WHERE task = ? AND started_at >= ?
GROUP BY ALL
"""


def model_drift(
    con: duckdb.DuckDBPyConnection, task: str, since: datetime, approved_at: datetime
) -> list[dict[str, Any]]:
    """Per model the task's attempts ran on, before and after the approval: attempts, failed,
    P95 of the successful ones."""
    return _rows(con.execute(MODEL_DRIFT_SQL, [approved_at, task, since]))


def approval(con: duckdb.DuckDBPyConnection, manifest_path: str) -> dict[str, Any] | None:
    if not has_table(con, "manifest_decisions"):
        return None
    rows = _rows(con.execute(APPROVAL_SQL, [manifest_path, manifest_path]))
    return rows[0] if rows else None


def actuals(con: duckdb.DuckDBPyConnection, task: str, since: datetime) -> list[dict[str, Any]]:
    return _rows(con.execute(ACTUALS_SQL, [task, since]))
