"""Keeping the marts current: the one owner of mart freshness.

:func:`refresh` brings the configuration the SQL layer reads (task rules, calendar) and the
materialized marts up to date in one transaction, so readers see the old marts or the new ones:

* when the SQL, the configuration, the prices or an existing model match changed, every
  materialized mart is rebuilt whole (:func:`rebuild_materialized`);
* otherwise only the logical requests of loads the marts do not hold yet are recomputed, and
  the days they touch (:func:`update_materialized`), so the write lock after an ingest lasts in
  proportion to what it loaded.

After the commit it publishes the read snapshot (:mod:`collectors.warehouse.snapshot`) that
readers open while the next writer holds the file.

It neither loads prices nor matches models: :mod:`collectors.pipeline` does those first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime

import duckdb

from collectors.config import WEEKDAYS, Config
from collectors.warehouse.clickhouse import refresh as ch_refresh
from collectors.warehouse.clickhouse.home import ClickHouseWarehouse
from collectors.warehouse.connect import Warehouse
from collectors.warehouse.migrate import (
    LOGIC_SUFFIX,
    materialized_files,
    request_keyed_marts,
    schema_hash,
)
from collectors.warehouse.session import background_priority, rebuild_plans, transaction

log = logging.getLogger(__name__)

UNDERIVED_LOADS_SQL = """
SELECT load_id FROM (SELECT load_id, count(*) AS n FROM raw_attempts GROUP BY load_id) r
FULL JOIN (SELECT load_id, count(*) AS n FROM attempts GROUP BY load_id) a USING (load_id)
WHERE r.n IS DISTINCT FROM a.n
"""
"""Loads whose attempts the marts do not hold (all of them, or some): what an incremental
rebuild recomputes."""

_MATCH_KEY = (
    "provider, logged_model, requested_model, base_model, priced_provider, priced_model_id, "
    "model_provider, model"
)


def refresh(wh: Warehouse, cfg: Config, force: bool = False) -> bool:
    """Bring the marts up to date; True when anything was rebuilt (see the module). Runs at a
    lower CPU priority: readers of the snapshot come first. On ClickHouse, the configuration is
    copied as here and the marts are swapped in by :mod:`.clickhouse.refresh`."""
    if isinstance(wh, ClickHouseWarehouse):
        with background_priority():
            with wh.connect() as con, transaction(con):
                sync_config(con, cfg)
            kind = ch_refresh.refresh(wh.client(), _config_fingerprint(cfg), force=force)
        log.info("%s rebuild of the marts on ClickHouse", kind)
        return kind != "none"
    with background_priority(), wh.connect() as con:
        fingerprint = _static_fingerprint(con, cfg)
        row = con.execute(
            "SELECT fingerprint FROM derived_state ORDER BY built_at DESC LIMIT 1"
        ).fetchall()
        full = force or not row or row[0][0] != fingerprint or not _matches_still_hold(con)
        t0 = time.monotonic()
        try:
            with transaction(con):
                _rebuild_marts(con, cfg, fingerprint, full, t0)
        except _UpToDate:
            if wh.publish_snapshot != wh.snapshot_path.exists():
                wh.publish(con)  # none yet (or no longer wanted): readers get one now
            return False  # rolled back: nothing was written
        took = time.monotonic() - t0
        wh.publish(con)
    log.info(
        "%s rebuild of the marts in %.2fs, read snapshot published in %.2fs",
        "full" if full else "incremental",
        took,
        time.monotonic() - t0 - took,
    )
    return True


class _UpToDate(Exception):
    """Nothing to recompute: the transaction rolls back."""


def _rebuild_marts(
    con: duckdb.DuckDBPyConnection, cfg: Config, fingerprint: str, full: bool, t0: float
) -> None:
    sync_config(con, cfg)
    if full:
        rebuild_materialized(con)
    elif _scope_changed_requests(con):
        update_materialized(con)
    else:
        raise _UpToDate
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


def behind(wh: Warehouse) -> bool:
    """The marts miss attempts the raw table holds (a run killed between its last commit and
    its refresh): two counts DuckDB keeps in its metadata, so cheap enough for every run. On
    ClickHouse: rows landed since the last build started."""
    if isinstance(wh, ClickHouseWarehouse):
        return wh.exists() and ch_refresh.behind(wh.client())
    if not wh.path.exists():
        return False
    with wh.connect(read_only=True, fresh=True) as con:
        try:
            raw, marts = con.execute(
                "SELECT (SELECT count(*) FROM raw_attempts), (SELECT count(*) FROM attempts)"
            ).fetchall()[0]
        except duckdb.Error:
            return True  # marts not built yet
    return bool(raw != marts)


def sync_config(con: duckdb.DuckDBPyConnection, cfg: Config) -> None:
    """Copy the task rules, the calendar, the billing policy and the metric settings of
    ``routeledger.toml`` where the SQL reads them."""
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
    con.execute("DELETE FROM config_billing")
    con.executemany("INSERT INTO config_billing VALUES (?, ?, ?)", cfg.billing_rules())
    con.execute("DELETE FROM config_metrics")
    con.execute(
        "INSERT INTO config_metrics VALUES (?)", [float(cfg.get("metrics.min_price_coverage"))]
    )


def _config_fingerprint(cfg: Config) -> str:
    doc = {
        "rules": [(r.field, r.pattern, r.task) for r in cfg.task_rules],
        "tz": cfg.timezone,
        "week": cfg.week_start,
        "aliases": sorted(cfg.aliases.items()),
        "billing": cfg.billing_rules(),
        "coverage": cfg.get("metrics.min_price_coverage"),
    }
    return json.dumps(doc, sort_keys=True)


def _static_fingerprint(con: duckdb.DuckDBPyConnection, cfg: Config) -> str:
    """What forces a full rebuild when it changes: the SQL, the configuration, the prices."""
    prices = con.execute(
        "SELECT count(*), max(coalesce(last_observed_at, valid_from)), "
        "max(coalesce(valid_to, TIMESTAMP '1970-01-01')), "
        "sum(hash(version_id, input_per_mtok, output_per_mtok, cached_input_per_mtok, discount_pct)) "
        "FROM price_versions"
    ).fetchall()
    parts = [schema_hash(), _config_fingerprint(cfg), repr(prices)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


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
        "INSERT INTO derive_scope SELECT DISTINCT logical_request_id FROM raw_attempts "
        f"WHERE load_id IN ({UNDERIVED_LOADS_SQL})"
    )
    return int(con.execute("SELECT count(*) FROM derive_scope").fetchall()[0][0])


def _rebuild(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}{LOGIC_SUFFIX}")


REBUILD_PART_ATTEMPTS = 1_000_000
"""A full rebuild derives the per-request marts in parts of about this many raw attempts."""


def rebuild_materialized(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every materialized mart from its logic view, in dependency order, in the caller's
    transaction (so readers see the old tables or the new ones, never a mix).

    Past :data:`REBUILD_PART_ATTEMPTS` raw attempts, the marts keyed by logical request are
    derived in parts: the requests split by a hash of their id, each part through the same scoped
    views an incremental rebuild uses. A part's joins and windows fit in the connection's memory
    where the whole month's spill to disk: at 10M attempts, 8 parts built ``attempts`` and
    ``logical_requests`` in 113 s instead of 160 s, and the whole rebuild with the default parts
    took 155 s instead of 218 s (``benchmarks/marts.py``, same hour)."""
    con.execute("DELETE FROM derive_scope")
    con.execute("DELETE FROM derive_scope_days")
    _unscope(con)  # every request (see update_materialized)
    files = materialized_files()
    raw = int(con.execute("SELECT count(*) FROM raw_attempts").fetchall()[0][0])
    parts = -(-raw // REBUILD_PART_ATTEMPTS)
    parted = request_keyed_marts() if parts > 1 else []
    with rebuild_plans(con):
        if parted:
            _rebuild_in_parts(con, parted, parts)
        for f in files:
            if f.name not in parted:
                _rebuild(con, f.name)


def _rebuild_in_parts(con: duckdb.DuckDBPyConnection, names: list[str], parts: int) -> None:
    con.execute("SET VARIABLE rl_derive_scope = true")
    con.execute("SET VARIABLE rl_derive_since = ?", [datetime(1, 1, 1)])
    try:
        for part in range(parts):
            con.execute("DELETE FROM derive_scope")
            con.execute(
                "INSERT INTO derive_scope SELECT DISTINCT logical_request_id FROM raw_attempts "
                "WHERE hash(logical_request_id) % ? = ?",
                [parts, part],
            )
            for name in names:
                into = f"INSERT INTO {name}" if part else f"CREATE OR REPLACE TABLE {name} AS"
                con.execute(f"{into} SELECT * FROM {name}{LOGIC_SUFFIX}")
            log.debug("marts by logical request: part %d of %d derived", part + 1, parts)
    finally:
        _unscope(con)
        con.execute("DELETE FROM derive_scope")


def update_materialized(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute, in the caller's transaction, only the requests listed in ``derive_scope`` (and
    the days they touch) in every incremental mart; the others are rebuilt whole. The scope is
    emptied before returning."""
    # every attempt of a request in scope starts at or after the earliest start of the
    # request in the marts (logical_requests) or in the loads not derived yet
    since = con.execute(
        "SELECT least((SELECT min(started_at) FROM logical_requests WHERE logical_request_id IN "
        "    (SELECT logical_request_id FROM derive_scope)),"
        f" (SELECT min(started_at) FROM raw_attempts WHERE load_id IN ({UNDERIVED_LOADS_SQL})))"
    ).fetchall()[0][0]
    con.execute("SET VARIABLE rl_derive_scope = true")
    con.execute("SET VARIABLE rl_derive_since = ?", [since or datetime(1, 1, 1)])
    with rebuild_plans(con):
        try:
            _update_scoped(con)
        finally:
            _unscope(con)
        for f in materialized_files():  # the rest read the updated tables whole
            if f.incremental_key is None:
                _rebuild(con, f.name)
    con.execute("DELETE FROM derive_scope_days")


def _unscope(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("RESET VARIABLE rl_derive_scope")
    con.execute("RESET VARIABLE rl_derive_since")


def _update_scoped(con: duckdb.DuckDBPyConnection) -> None:
    scoped_days = (
        "INSERT INTO derive_scope_days SELECT DISTINCT local_day FROM attempts "
        "WHERE logical_request_id IN (SELECT logical_request_id FROM derive_scope)"
    )
    con.execute(scoped_days)  # the days the requests touched before this update
    for f in materialized_files():
        key = f.incremental_key
        logic = f"{f.name}{LOGIC_SUFFIX}"
        if key == "logical_request_id":
            con.execute(
                f"DELETE FROM {f.name} WHERE logical_request_id IN "
                "(SELECT logical_request_id FROM derive_scope)"
            )
            con.execute(f"INSERT INTO {f.name} SELECT * FROM {logic}")  # the views read the scope
            if f.name == "attempts":
                con.execute(scoped_days)  # and the days they touch now
        elif key == "local_day":
            # the days as bound constants, not a subquery: a constant filter reaches the scan
            # of the attempts below the view's GROUP BY, so only those days are read
            touched = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT local_day FROM derive_scope_days ORDER BY 1"
                ).fetchall()
            ]
            if not touched:
                continue
            days = "(" + ", ".join("?" for _ in touched) + ")"
            con.execute(f"DELETE FROM {f.name} WHERE local_day IN {days}", touched)
            con.execute(
                f"INSERT INTO {f.name} SELECT * FROM {logic} WHERE local_day IN {days}", touched
            )
    con.execute("DELETE FROM derive_scope")
