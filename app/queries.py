"""Every SQL string the app runs. Reads marts only; every value is a bound parameter.

Each function takes an open connection (the caller owns its short life: one unit of work) and
returns plain rows as dicts, so pages, the CLI and reports share one definition of each figure.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

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
)


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


TASK_STATS_SQL = """
SELECT task, logical_requests, succeeded, success_rate, success_rate_low, success_rate_high,
       spend_usd, cost_per_successful_request_usd, latency_n, p50_ms, p95_ms, retry_rate,
       fallback_rate, unpriced_attempts, spend_on_failed_requests_usd
FROM task_stats(?, ?)
ORDER BY spend_usd DESC, task
"""

MODEL_TASK_STATS_SQL = """
SELECT provider, model, task, attempts, successes, success_rate, success_rate_low,
       success_rate_high, spend_usd, cost_per_success_usd, latency_n, p50_ms, p95_ms, p99_ms,
       ttft_n, ttft_p95_ms, retry_share, unpriced_attempts, validated, validation_pass_rate,
       quality_score
FROM model_task_stats(?, ?)
ORDER BY spend_usd DESC, provider, model, task
"""


def task_stats(con: duckdb.DuckDBPyConnection, since: date, until: date) -> list[dict[str, Any]]:
    """One row per task over the local days [since, until] (fields: TASK_FIELDS)."""
    return _rows(con.execute(TASK_STATS_SQL, [since, until]))


def model_task_stats(
    con: duckdb.DuckDBPyConnection, since: date, until: date
) -> list[dict[str, Any]]:
    """One row per (provider, model, task) over the local days [since, until] (MODEL_FIELDS)."""
    return _rows(con.execute(MODEL_TASK_STATS_SQL, [since, until]))


def unpriced_attempts(con: duckdb.DuckDBPyConnection, since: date, until: date) -> int:
    row = con.execute(
        "SELECT count(*) FROM attempts WHERE cost_basis = 'unpriced' AND local_day BETWEEN ? AND ?",
        [since, until],
    ).fetchall()
    return int(row[0][0])


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    row = con.execute("SELECT min(local_day), max(local_day) FROM attempts").fetchall()
    return row[0][0], row[0][1]


def plain(value: Any) -> Any:
    """A value for JSON: Decimal money as float (exact to the cent and well beyond)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
