"""Price history in the warehouse: observations in, versions and reviews rebuilt, status kept.

Every function takes an open DuckDB connection (one unit of work, see
:class:`collectors.warehouse.Warehouse`); nothing here opens or holds one.

* :func:`insert_refresh` appends one source's observations with its ``price_refreshes`` row;
* :func:`collectors.prices.history.rebuild` (its own module) re-derives the versions;
* :func:`set_status` keeps ``price_source_status`` (the data-health page's view of a source);
* :func:`decide` records ``prices confirm`` / ``--reject``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import duckdb
import pyarrow as pa

from collectors.prices.common import PRICE_FIELDS, is_skip
from collectors.records import PriceObservation

log = logging.getLogger(__name__)

SIX = Decimal("0.000001")
FOUR = Decimal("0.0001")


def utc_naive(value: datetime) -> datetime:
    """Warehouse timestamps are naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _money(value: Decimal | None, step: Decimal = SIX) -> Decimal | None:
    return None if value is None else value.quantize(step, rounding=ROUND_HALF_EVEN)


_OBS_SCHEMA = pa.schema(
    [
        ("refresh_id", pa.string()),
        ("source", pa.string()),
        ("observed_at", pa.timestamp("us")),
        ("provider", pa.string()),
        ("model_id", pa.string()),
        ("variant", pa.string()),
        ("tier_min_prompt_tokens", pa.int64()),
        ("window_start_utc", pa.time64("us")),
        ("window_end_utc", pa.time64("us")),
        ("weekdays_only", pa.bool_()),
        ("valid_from", pa.timestamp("us")),
        *[(f, pa.decimal128(18, 6)) for f in PRICE_FIELDS],
        ("discount_pct", pa.decimal128(9, 4)),
        ("skipped", pa.bool_()),
        ("match_rule", pa.string()),
        ("source_model_id", pa.string()),
        ("raw", pa.string()),
        ("note", pa.string()),
        ("extra", pa.string()),
    ]
)


def insert_refresh(
    con: duckdb.DuckDBPyConnection,
    *,
    refresh_id: str,
    source: str,
    started_at: datetime,
    observed_at: datetime,
    observations: Sequence[PriceObservation],
    content_sha256: str | None,
    origin: str | None,
) -> int:
    """Append a successful refresh and its observations; returns the number of priced models."""
    rows = [
        {
            "refresh_id": refresh_id,
            "source": source,
            "observed_at": utc_naive(observed_at),
            "provider": o.provider,
            "model_id": o.model_id,
            "variant": o.variant,
            "tier_min_prompt_tokens": o.tier_min_prompt_tokens,
            "window_start_utc": o.window_start_utc,
            "window_end_utc": o.window_end_utc,
            "weekdays_only": o.weekdays_only,
            "valid_from": utc_naive(o.valid_from) if o.valid_from else None,
            **{f: _money(getattr(o, f)) for f in PRICE_FIELDS},
            "discount_pct": _money(o.discount_pct, FOUR),
            "skipped": is_skip(o),
            "match_rule": o.match_rule,
            "source_model_id": o.extra.get("source_model_id"),
            "raw": o.raw,
            "note": o.note,
            "extra": json.dumps(o.extra, sort_keys=True),
        }
        for o in observations
    ]
    models = len({(o.provider, o.model_id) for o in observations if not is_skip(o)})
    con.execute(
        "INSERT INTO price_refreshes (refresh_id, source, started_at, observed_at, status, "
        "models, observations, content_sha256, origin) VALUES (?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
        [
            refresh_id,
            source,
            utc_naive(started_at),
            utc_naive(observed_at),
            models,
            len(rows),
            content_sha256,
            origin,
        ],
    )
    if rows:
        table = pa.Table.from_pylist(rows, schema=_OBS_SCHEMA)
        con.register("_new_price_observations", table)
        try:
            con.execute(
                "INSERT INTO price_observations BY NAME SELECT * FROM _new_price_observations"
            )
        finally:
            con.unregister("_new_price_observations")
    return models


def insert_attempt(
    con: duckdb.DuckDBPyConnection,
    *,
    refresh_id: str,
    source: str,
    started_at: datetime,
    status: str,
    error: str | None = None,
    origin: str | None = None,
    content_sha256: str | None = None,
) -> None:
    """Record a refresh that wrote no observations (unchanged or failed)."""
    con.execute(
        "INSERT INTO price_refreshes (refresh_id, source, started_at, observed_at, status, "
        "content_sha256, origin, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            refresh_id,
            source,
            utc_naive(started_at),
            utc_naive(started_at),
            status,
            content_sha256,
            origin,
            error,
        ],
    )


# --- status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceStatus:
    source: str
    status: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    models: int
    changed: int
    pending_review: int
    error: str | None
    etag: str | None
    last_modified: str | None
    content_sha256: str | None
    last_refresh_id: str | None


_STATUS_COLUMNS = (
    "source, status, last_attempt_at, last_success_at, models, changed, pending_review, error, "
    "etag, last_modified, content_sha256, last_refresh_id"
)


def get_status(con: duckdb.DuckDBPyConnection, source: str) -> SourceStatus | None:
    row = con.execute(
        "SELECT source, status, last_attempt_at, last_success_at, models, changed, "
        "pending_review, error, etag, last_modified, content_sha256, last_refresh_id "
        "FROM price_source_status WHERE source = ?",
        [source],
    ).fetchone()
    return SourceStatus(*row) if row else None


def set_status(con: duckdb.DuckDBPyConnection, status: SourceStatus) -> None:
    con.execute("DELETE FROM price_source_status WHERE source = ?", [status.source])
    con.execute(
        "INSERT INTO price_source_status (source, status, last_attempt_at, last_success_at, "
        "models, changed, pending_review, error, etag, last_modified, content_sha256, "
        "last_refresh_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            status.source,
            status.status,
            utc_naive(status.last_attempt_at),
            utc_naive(status.last_success_at) if status.last_success_at else None,
            status.models,
            status.changed,
            status.pending_review,
            status.error,
            status.etag,
            status.last_modified,
            status.content_sha256,
            status.last_refresh_id,
        ],
    )


def pending_count(con: duckdb.DuckDBPyConnection, source: str) -> int:
    row = con.execute(
        "SELECT count(*) FROM price_reviews WHERE source = ? AND status = 'pending'", [source]
    ).fetchone()
    return int(row[0]) if row else 0


def decide(
    con: duckdb.DuckDBPyConnection,
    provider: str,
    model_id: str,
    source: str | None,
    status: str,
    decided_by: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Confirm or reject the pending reviews of one model; returns the reviews decided."""
    rows = con.execute(
        "SELECT review_id, source, kind, detail, detected_at FROM price_reviews "
        "WHERE status = 'pending' AND provider = ? AND model_id = ? AND (? IS NULL OR source = ?) "
        "ORDER BY detected_at, source",
        [provider, model_id, source, source],
    ).fetchall()
    for review_id, *_ in rows:
        con.execute(
            "UPDATE price_reviews SET status = ?, decided_at = ?, decided_by = ? WHERE review_id = ?",
            [status, utc_naive(now), decided_by, review_id],
        )
    return [
        {"review_id": r[0], "source": r[1], "kind": r[2], "detail": r[3], "detected_at": r[4]}
        for r in rows
    ]
