"""Keeping what is derived from the raw tables up to date: the configuration the SQL layer reads
(task rules, calendar), the model-to-price matches, and the materialized marts.

:func:`refresh` is called by every writer after it changed an input (ingest, price refresh,
``routeledger stats`` when the configuration changed). It fingerprints the inputs and rebuilds
only when one changed, in one transaction, so readers see the old marts or the new ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime

import duckdb

from collectors.config import WEEKDAYS, Config
from collectors.warehouse import Warehouse, rebuild_materialized, schema_hash

log = logging.getLogger(__name__)


def warehouse(cfg: Config) -> Warehouse:
    return Warehouse(cfg.warehouse_path, float(cfg.get("warehouse.lock_timeout_seconds")))


def _config_fingerprint(cfg: Config) -> str:
    doc = {
        "rules": [(r.field, r.pattern, r.task) for r in cfg.task_rules],
        "tz": cfg.timezone,
        "week": cfg.week_start,
        "aliases": sorted(cfg.aliases.items()),
    }
    return json.dumps(doc, sort_keys=True)


def _inputs_fingerprint(con: duckdb.DuckDBPyConnection, cfg: Config) -> str:
    parts = [schema_hash(), _config_fingerprint(cfg)]
    for sql in (
        "SELECT count(*), max(ingested_at) FROM raw_attempts",
        "SELECT count(*), max(coalesce(last_observed_at, valid_from)), "
        "max(coalesce(valid_to, TIMESTAMP '1970-01-01')) FROM price_versions",
        "SELECT count(*), max(matched_at) FROM model_matches",
    ):
        parts.append(repr(con.execute(sql).fetchall()))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def sync_config(con: duckdb.DuckDBPyConnection, cfg: Config) -> None:
    con.execute("DELETE FROM config_task_rules")
    if cfg.task_rules:
        con.executemany(
            "INSERT INTO config_task_rules VALUES (?, ?, ?, ?)",
            [[i, r.field, r.pattern, r.task] for i, r in enumerate(cfg.task_rules)],
        )
    con.execute("DELETE FROM config_calendar")
    con.execute(
        "INSERT INTO config_calendar VALUES (?, ?)",
        [cfg.timezone, WEEKDAYS.index(cfg.week_start) + 1],
    )


def refresh(
    cfg: Config, force: bool = False, match_prices: bool = True, ensure_catalog: bool = True
) -> bool:
    """Bring the derived tables up to date; True when anything was rebuilt. A warehouse that
    never loaded the bundled catalog loads it first (``prices.auto_catalog``)."""
    wh = warehouse(cfg)
    wh.migrate()
    if ensure_catalog and cfg.get("prices.auto_catalog"):
        with wh.connect() as con:
            loaded = con.execute(
                "SELECT count(*) FROM price_refreshes WHERE source = 'catalog' AND status = 'ok'"
            ).fetchall()[0][0]
        if not loaded:
            from collectors.prices.refresh import refresh as refresh_prices

            refresh_prices(cfg, sources=["catalog"])  # rebuilds the marts itself
            return True
    with wh.connect() as con:
        if match_prices:
            _rematch(con, cfg)
        fingerprint = _inputs_fingerprint(con, cfg)
        row = con.execute(
            "SELECT fingerprint FROM derived_state ORDER BY built_at DESC LIMIT 1"
        ).fetchall()
        if row and row[0][0] == fingerprint and not force:
            return False
        t0 = time.monotonic()
        con.execute("BEGIN")
        try:
            sync_config(con, cfg)
            rebuild_materialized(con)
            con.execute("DELETE FROM derived_state")
            con.execute(
                "INSERT INTO derived_state VALUES (?, ?, ?)",
                [fingerprint, datetime.now(UTC).replace(tzinfo=None), time.monotonic() - t0],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        log.info("rebuilt the marts in %.2fs", time.monotonic() - t0)
        return True


def _rematch(con: duckdb.DuckDBPyConnection, cfg: Config) -> None:
    """Resolve every distinct logged model to a priced one (a few hundred names: cheap)."""
    from collectors.prices.match import rebuild_matches

    con.execute("BEGIN")
    try:
        rebuild_matches(con, cfg.aliases, datetime.now(UTC).replace(tzinfo=None))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
