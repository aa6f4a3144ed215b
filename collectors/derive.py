"""Keeping what is derived from the raw tables up to date: the configuration the SQL layer reads
(task rules, calendar), the model-to-price matches, and the materialized marts.

:func:`refresh` is called by every writer after it changed an input (ingest, price refresh,
``routeledger stats`` when the configuration changed), always in one transaction, so readers see
the old marts or the new ones:

* when the SQL, the configuration, the prices or an existing model match changed, every
  materialized mart is rebuilt whole;
* otherwise only the logical requests of loads the marts do not hold yet are recomputed (and the
  days they touch), so the write lock after an ingest lasts in proportion to what it loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime

import duckdb

from collectors.config import WEEKDAYS, Config
from collectors.warehouse import Warehouse, rebuild_materialized, schema_hash, update_materialized

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


def _static_fingerprint(con: duckdb.DuckDBPyConnection, cfg: Config) -> str:
    """What forces a full rebuild when it changes: the SQL, the configuration, the prices."""
    parts = [schema_hash(), _config_fingerprint(cfg)]
    parts.append(
        repr(
            con.execute(
                "SELECT count(*), max(coalesce(last_observed_at, valid_from)), "
                "max(coalesce(valid_to, TIMESTAMP '1970-01-01')), "
                "sum(hash(version_id, input_per_mtok, output_per_mtok, cached_input_per_mtok, discount_pct)) "
                "FROM price_versions"
            ).fetchall()
        )
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


_MATCH_KEY = "provider, logged_model, requested_model, base_model, priced_provider, priced_model_id"


def _matches_still_hold(con: duckdb.DuckDBPyConnection) -> bool:
    """Every match the marts were built with is unchanged (new logged models may have appeared)."""
    changed = con.execute(
        f"SELECT count(*) FROM (SELECT {_MATCH_KEY} FROM derived_matches "
        f"EXCEPT SELECT {_MATCH_KEY} FROM model_matches)"
    ).fetchall()[0][0]
    return int(changed) == 0


def _scope_changed_requests(con: duckdb.DuckDBPyConnection) -> int:
    """Fill derive_scope with the logical requests of loads the marts do not fully hold yet."""
    con.execute("DELETE FROM derive_scope")
    con.execute(
        "INSERT INTO derive_scope SELECT DISTINCT logical_request_id FROM raw_attempts WHERE load_id IN ("
        " SELECT load_id FROM (SELECT load_id, count(*) AS n FROM raw_attempts GROUP BY load_id) r"
        " FULL JOIN (SELECT load_id, count(*) AS n FROM attempts GROUP BY load_id) a USING (load_id)"
        " WHERE r.n IS DISTINCT FROM a.n)"
    )
    return int(con.execute("SELECT count(*) FROM derive_scope").fetchall()[0][0])


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
        fingerprint = _static_fingerprint(con, cfg)
        row = con.execute(
            "SELECT fingerprint FROM derived_state ORDER BY built_at DESC LIMIT 1"
        ).fetchall()
        full = force or not row or row[0][0] != fingerprint or not _matches_still_hold(con)
        t0 = time.monotonic()
        con.execute("BEGIN")
        try:
            sync_config(con, cfg)
            if full:
                rebuild_materialized(con)
            elif _scope_changed_requests(con):
                update_materialized(con)
            else:
                con.execute("ROLLBACK")
                return False
            con.execute("DELETE FROM derived_matches")
            con.execute(f"INSERT INTO derived_matches SELECT {_MATCH_KEY} FROM model_matches")
            con.execute("DELETE FROM derived_state")
            con.execute(
                "INSERT INTO derived_state VALUES (?, ?, ?, ?)",
                [
                    fingerprint,
                    datetime.now(UTC).replace(tzinfo=None),
                    time.monotonic() - t0,
                    "full" if full else "incremental",
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        log.info(
            "%s rebuild of the marts in %.2fs",
            "full" if full else "incremental",
            time.monotonic() - t0,
        )
        return True


def behind(cfg: Config) -> bool:
    """The marts miss attempts the raw table holds (a run killed between its last commit and
    its refresh): two counts DuckDB keeps in its metadata, so cheap enough for every run."""
    wh = warehouse(cfg)
    if not wh.path.exists():
        return False
    with wh.connect(read_only=True) as con:
        try:
            raw, marts = con.execute(
                "SELECT (SELECT count(*) FROM raw_attempts), (SELECT count(*) FROM attempts)"
            ).fetchall()[0]
        except duckdb.Error:
            return True  # marts not built yet
    return bool(raw != marts)


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
