"""What the CLI, the scheduler and the dashboard call for prices (besides :func:`refresh`).

* :func:`show` - the versions of one model, the one in force first (``prices show``);
* :func:`confirm` - decide its pending reviews and rebuild (``prices confirm``);
* :func:`unmatched` - logged models without a price, with their traffic (``prices unmatched``);
* :func:`rematch` - re-resolve logged models after an ingest.

Each opens the warehouse for one unit of work only.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb

from collectors.config import Config
from collectors.errors import InputError
from collectors.prices import history, match, store
from collectors.prices.refresh import SOURCES, record_source, refresh
from collectors.warehouse import Warehouse, transaction

__all__ = ["SOURCES", "confirm", "refresh", "rematch", "resolve_model", "show", "unmatched"]

_VERSION_SQL = """
SELECT version_id, source, source_rank, provider, model_id, variant, tier_min_prompt_tokens,
    window_start_utc, window_end_utc, weekdays_only, input_per_mtok, cached_input_per_mtok,
    cache_write_5m_per_mtok, cache_write_1h_per_mtok, output_per_mtok, reasoning_per_mtok,
    per_request, per_image, discount_pct, valid_from, valid_to, first_observed_at, last_observed_at
FROM price_versions WHERE provider = ? AND model_id = ?
"""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=None).isoformat() + "Z"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def resolve_model(
    con: duckdb.DuckDBPyConnection, model: str, aliases: dict[str, str]
) -> tuple[str, str, str]:
    """(provider, model_id, match rule) for a name typed by a person; InputError if unknown."""
    known = con.execute(
        "SELECT DISTINCT provider, model_id FROM price_versions "
        "UNION SELECT DISTINCT provider, model_id FROM price_reviews"
    ).fetchall()
    found = match.Matcher(((str(p), str(m)) for p, m in known), aliases).resolve(
        match.Logged(None, model)
    )
    if found.priced_provider is None or found.priced_model_id is None:
        raise InputError(f"no price known for {model!r}; run `routeledger prices refresh` first?")
    return found.priced_provider, found.priced_model_id, found.match_rule


def _entry(row: dict[str, Any], history: bool) -> dict[str, Any]:
    out = {
        "source": row["source"],
        "provider": row["provider"],
        "input_per_mtok": _number(row["input_per_mtok"]),
        "cached_input_per_mtok": _number(row["cached_input_per_mtok"]),
        "cache_write_per_mtok": _number(row["cache_write_5m_per_mtok"]),
        "output_per_mtok": _number(row["output_per_mtok"]),
        "valid_from": _iso(row["valid_from"]),
    }
    if history:
        out["valid_to"] = _iso(row["valid_to"])
    out.update(
        {
            "model_id": row["model_id"],
            "variant": row["variant"],
            "tier_min_prompt_tokens": row["tier_min_prompt_tokens"],
            "window_start_utc": None
            if row["window_start_utc"] is None
            else str(row["window_start_utc"]),
            "window_end_utc": None if row["window_end_utc"] is None else str(row["window_end_utc"]),
            "weekdays_only": row["weekdays_only"],
            "cache_write_1h_per_mtok": _number(row["cache_write_1h_per_mtok"]),
            "reasoning_per_mtok": _number(row["reasoning_per_mtok"]),
            "per_request": _number(row["per_request"]),
            "per_image": _number(row["per_image"]),
            "discount_pct": _number(row["discount_pct"]),
            "source_rank": row["source_rank"],
            "first_observed_at": _iso(row["first_observed_at"]),
            "version_id": row["version_id"],
        }
    )
    return out


def show(cfg: Config, model: str, *, now: datetime | None = None) -> dict[str, Any]:
    """``{"model", "provider", "model_id", "current": [...], "history": [...], "pending_review"}``."""
    at = store.utc_naive(now or datetime.now(UTC))
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        provider, model_id, rule = resolve_model(con, model, cfg.aliases)
        cursor = con.execute(_VERSION_SQL, [provider, model_id])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        pending = con.execute(
            "SELECT source, kind, detail, detected_at FROM price_reviews "
            "WHERE provider = ? AND model_id = ? AND status = 'pending' ORDER BY detected_at",
            [provider, model_id],
        ).fetchall()

    def in_force_order(r: dict[str, Any]) -> tuple[Any, ...]:
        return (
            r["variant"] != "standard",
            r["variant"],
            r["tier_min_prompt_tokens"],
            r["window_start_utc"] is not None,
            str(r["window_start_utc"]),
            r["source_rank"],
            r["source"],
        )

    current = sorted(
        (
            r
            for r in rows
            if r["valid_from"] <= at and (r["valid_to"] is None or r["valid_to"] > at)
        ),
        key=in_force_order,
    )
    history = sorted(rows, key=lambda r: (r["source_rank"], r["source"], *in_force_order(r)))
    history.sort(key=lambda r: r["valid_from"], reverse=True)
    return {
        "model": model,
        "provider": provider,
        "model_id": model_id,
        "match_rule": rule,
        "current": [_entry(r, history=False) for r in current],
        "history": [_entry(r, history=True) for r in history],
        "pending_review": [
            {"source": s, "kind": k, "detail": d, "detected_at": _iso(t)} for s, k, d, t in pending
        ],
    }


def confirm(
    cfg: Config,
    model: str,
    source: str | None = None,
    *,
    reject: bool = False,
    decided_by: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Confirm (or reject) the pending reviews of ``model``, then rebuild the versions (the
    marts follow in :func:`collectors.pipeline.confirm_price`)."""
    status = "rejected" if reject else "confirmed"
    who = decided_by or _user()
    with Warehouse.from_config(cfg).connect() as con, transaction(con):
        provider, model_id, _ = resolve_model(con, model, cfg.aliases)
        decided = store.decide(
            con, provider, model_id, record_source(source) if source else None, status, who, now()
        )
        if not decided:
            where = f" from {source}" if source else ""
            raise InputError(f"no pending price review for {provider}/{model_id}{where}")
        history.rebuild(con, float(cfg.get("prices.review_factor")))
        for s in {d["source"] for d in decided}:
            con.execute(
                "UPDATE price_source_status SET pending_review = ? WHERE source = ?",
                [store.pending_count(con, s), s],
            )
        match.rebuild_matches(con, cfg.aliases, store.utc_naive(now()))
    return {
        "model": model,
        "provider": provider,
        "model_id": model_id,
        "decision": status,
        "reviews": [{**d, "detected_at": _iso(d["detected_at"])} for d in decided],
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def rematch(cfg: Config, *, now: datetime | None = None) -> tuple[int, int]:
    """Re-resolve every logged model (after an ingest); (matched, unmatched)."""
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    with wh.connect() as con, transaction(con):
        counts = match.rebuild_matches(con, cfg.aliases, store.utc_naive(now or datetime.now(UTC)))
    return counts


def unmatched(cfg: Config) -> dict[str, Any]:
    """``{"unmatched": [...], "models_matched", "models_unmatched"}`` after re-matching."""
    matched, missing = rematch(cfg)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        rows = match.unmatched(con)
    return {
        "unmatched": [
            {
                "provider": r["provider"],
                "model": r["logged_model"],
                "requested_model": r["requested_model"],
                "base_model": r["base_model"],
                "reason": r["reason"],
                "attempts": int(r["attempts"]),
                "requests": int(r["requests"]),
                "input_tokens": int(r["input_tokens"]),
                "output_tokens": int(r["output_tokens"]),
                "first_seen": _iso(r["first_seen"]),
                "last_seen": _iso(r["last_seen"]),
            }
            for r in rows
        ],
        "models_matched": matched,
        "models_unmatched": missing,
    }
