"""Keeping the materialized marts current on ClickHouse, with readers never waiting and never
seeing a partial or empty mart.

* **Full** (:func:`rebuild_full`): every mart is built into ``<name>__next`` (created from the
  generated DDL, so a rebuild also brings a mart to the current engine and partitioning), in
  dependency order, each from ``<name>__next_logic``: its logic view with the marts it reads
  pointed at their ``__next`` tables. Then one ``EXCHANGE TABLES a AND a__next, b AND b__next,
  ...`` swaps them all. Each pair swaps atomically; the pairs of the one statement swap one after
  another within microseconds, so a reader querying two marts at that instant could see the new
  ``attempts`` beside the old ``logical_requests``. No reader ever sees an empty or half-filled
  mart, and nobody waits: the old tables serve every query until the swap. Past
  :data:`PART_ATTEMPTS` raw attempts, ``attempts`` and ``logical_requests`` (the marts keyed by
  logical request that read no other mart) are filled first, part by part: the requests split by
  a hash of their id, each part computed by the scoped logic of the incremental build below
  (its base views filtering on the hash), with ``attempts`` read from ``attempts__next``. A
  part's windows, joins and aggregates hold only its requests in memory: at 10M attempts in 2
  parts the build peaked at 3.3 GB instead of 5.1 GB, and took 150 s instead of 133 s.
* **Incremental** (:func:`refresh_days`): the marts with a ``local_day`` are partitioned by
  it (:mod:`.generate`). The days that raw rows landed since the last build touch (every attempt
  of their logical requests, a day either side of their UTC start so any time zone's local day
  is inside) are recomputed into ``<name>__next`` and swapped in with ``ALTER TABLE <name>
  REPLACE PARTITION ID '<yyyymmdd>' FROM <name>__next`` (atomic per partition; a day left empty
  replaces the old one with nothing). A day is recomputed whole but from its own requests only,
  as DuckDB's incremental build does: ``derive_scope`` holds every logical request with an
  attempt on those days, and ``attempts`` and ``logical_requests`` are computed from
  ``<name>__logic__rl_scoped``, a copy of their logic whose views read ``raw_attempts`` and
  ``attempts`` cut to that scope (``raw_attempts`` is ordered by request, so the cut reads only
  their granules). The scope is a table, not a session variable, so the views readers may use
  are never scoped: only the copies, made for the build and dropped after, read it; one build at
  a time. The marts keyed by day read the live upstream marts, already updated, filtered to the
  days (partition pruning): between two marts' swaps a reader may see the new ``attempts`` of a
  day with the old ``spend_per_day`` of it, for as long as the later marts take to compute;
  each mart on its own is always whole. Marts without a ``local_day`` (small aggregates) are
  rebuilt whole and exchanged.

:func:`refresh` chooses as :mod:`collectors.warehouse.marts` does: full when the SQL, the
prices or an existing model match changed (a fingerprint), incremental when raw rows landed
since the last build, nothing otherwise. It records ``derived_state`` (the row's ``built_at`` is
when the build started reading: rows landed later are the next build's) and
``derived_matches``. Copying the configuration into ``config_*`` is the caller's.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date, datetime, timedelta
from typing import Any

from collectors.errors import WarehouseError
from collectors.warehouse.clickhouse import client as ch_client
from collectors.warehouse.clickhouse.apply import (
    INSERT_SETTINGS,
    SETTINGS,
    generated_text,
    statements,
)
from collectors.warehouse.ledger import now_utc
from collectors.warehouse.migrate import (
    LOGIC_SUFFIX,
    VIEW_LAYERS,
    SqlFile,
    dependency_order,
    materialized_files,
    relation_reads,
    request_keyed_marts,
    schema_hash,
    sql_files,
)

NEXT = "__next"
NEXT_LOGIC = "__next_logic"
# rows whose ingested_at is this close before the last build's start are recomputed again: a
# batch stamped just before the build started may have landed after it read raw_attempts
LANDING_SLACK = timedelta(minutes=5)
_MATCH_KEY = (
    "provider, logged_model, requested_model, base_model, priced_provider, priced_model_id, "
    "model_provider, model"
)
_PARTITION = "toYYYYMMDD(local_day)"
SCOPED = "__rl_scoped"
_IN_SCOPE = "logical_request_id IN (SELECT logical_request_id FROM derive_scope)"
PART_ATTEMPTS = 5_000_000
"""A full rebuild derives the marts keyed by logical request in parts of about this many raw
attempts (in one piece the build's memory grows with the month: 5.1 GB at 10M attempts)."""


def _database(client: Any) -> str:
    """The client's database; an identifier (apply and the URL parser check it)."""
    db = str(ch_client.rows(client, "SELECT currentDatabase()")[0][0])
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", db):
        raise WarehouseError(f"{db!r} is not a database name this module can redirect views in")
    return db


def _create_next(client: Any, f: SqlFile) -> None:
    """``<name>__next``, empty, from the generated DDL of the mart."""
    head = f"CREATE TABLE IF NOT EXISTS {f.name}\n"
    ddl = next((s for s in statements(generated_text(f)) if s.startswith(head)), None)
    if ddl is None:
        raise WarehouseError(f"sql/clickhouse/{f.layer}/{f.name}.sql creates no table {f.name}")
    ch_client.command(client, f"DROP TABLE IF EXISTS {f.name}{NEXT}")
    ch_client.command(client, f"CREATE TABLE {f.name}{NEXT}\n" + ddl[len(head) :])


def _next_logic(client: Any, db: str, f: SqlFile, built: list[str]) -> str:
    """A view ``<name>__next_logic``: the mart's logic reading the ``__next`` tables of
    ``built`` (the marts before it) instead of the live ones."""
    return _copy_view(client, db, f"{f.name}{LOGIC_SUFFIX}", f"{f.name}{NEXT_LOGIC}", built, NEXT)


def _drop_next(client: Any, files: list[SqlFile]) -> None:
    for f in files:
        ch_client.command(client, f"DROP VIEW IF EXISTS {f.name}{NEXT_LOGIC}")
        ch_client.command(client, f"DROP TABLE IF EXISTS {f.name}{NEXT}")


def rebuild_full(client: Any) -> None:
    """Every materialized mart rebuilt whole into ``__next`` tables, then all swapped in by one
    ``EXCHANGE TABLES`` (see the module). Past :data:`PART_ATTEMPTS` raw attempts the marts
    keyed by logical request are derived in parts first (:func:`_build_in_parts`)."""
    files = materialized_files()
    db = _database(client)
    built: list[str] = []
    raw = int(ch_client.rows(client, "SELECT count() FROM raw_attempts")[0][0])
    parts = -(-raw // PART_ATTEMPTS)
    parted = request_keyed_marts() if parts > 1 else []
    try:
        if parted:
            _build_in_parts(client, db, [f for f in files if f.name in parted], parts)
            built += parted
        for f in files:
            if f.name in parted:
                continue
            _create_next(client, f)
            logic = _next_logic(client, db, f, built)
            ch_client.command(
                client, f"INSERT INTO {f.name}{NEXT} SELECT * FROM {logic}", **INSERT_SETTINGS
            )
            built.append(f.name)
        pairs = ", ".join(f"{f.name} AND {f.name}{NEXT}" for f in files)
        ch_client.command(client, f"EXCHANGE TABLES {pairs}")
    finally:
        _drop_next(client, files)  # after the swap: the old marts


def _build_in_parts(client: Any, db: str, files: list[SqlFile], parts: int) -> None:
    """Fill the ``__next`` tables of ``files`` (marts keyed by logical request) part by part:
    the requests split by a hash of their id, each part computed by the scoped logic an
    incremental refresh uses, its ``attempts`` read from ``attempts__next``. The scoped base
    views filter on the hash itself (a set of millions of ids per part cost more memory than
    the whole build). A part's joins, windows and aggregates hold a part of the requests."""
    for f in files:
        _create_next(client, f)

    def cut(part: int) -> str:
        return f"cityHash64(logical_request_id) % {parts} = {part}"

    made = _create_scoped(client, db, marts_suffix=NEXT, where=cut(0))
    try:
        for part in range(parts):
            if part:
                _scope_bases(client, NEXT, cut(part))
            for f in files:
                ch_client.command(
                    client,
                    f"INSERT INTO {f.name}{NEXT} SELECT * FROM {f.name}{LOGIC_SUFFIX}{SCOPED}",
                    **INSERT_SETTINGS,
                )
    finally:
        for name in reversed(made):
            ch_client.command(client, f"DROP VIEW IF EXISTS {name}")


def partitioned(client: Any, name: str) -> bool:
    """The live mart is partitioned by its local day (a mart created with another partitioning
    is rebuilt whole instead)."""
    rows = ch_client.rows(
        client,
        "SELECT partition_key FROM system.tables "
        "WHERE database = currentDatabase() AND name = {name:String}",
        name=name,
    )
    return bool(rows) and rows[0][0] == _PARTITION


def touched_days(client: Any, since: datetime) -> list[date]:
    """Days whose marts the raw rows landed from ``since`` on can change: the UTC dates of every
    attempt of their logical requests, a day either side (any time zone's local day is
    inside). A row the marts already hold (landed within the slack before the last build, and
    read by it) changes nothing and touches no day."""
    rows = ch_client.rows(
        client,
        "WITH landed AS (SELECT logical_request_id, attempt_id FROM raw_attempts "
        "    WHERE ingested_at >= {since:DateTime64(6)}), "
        "held AS (SELECT logical_request_id, attempt_id FROM attempts "
        "    WHERE logical_request_id IN (SELECT logical_request_id FROM landed)) "
        "SELECT DISTINCT toDate(started_at + toIntervalDay(d)) AS day "
        "FROM raw_attempts ARRAY JOIN [-1, 0, 1] AS d WHERE logical_request_id IN "
        "(SELECT logical_request_id FROM landed "
        " WHERE (logical_request_id, attempt_id) NOT IN (SELECT * FROM held)) "
        "ORDER BY day",
        since=since,
    )
    return [r[0] for r in rows]


def _scope(client: Any, days: list[date]) -> int:
    """``derive_scope``: every logical request with an attempt on one of ``days`` as any time
    zone sees them (its UTC date within a day of one), so each day is recomputed whole."""
    wide = sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)})
    ch_client.command(client, "TRUNCATE TABLE derive_scope")
    ch_client.command(
        client,
        "INSERT INTO derive_scope SELECT DISTINCT logical_request_id FROM raw_attempts "
        "WHERE toDate(started_at) IN {days:Array(Date)}",
        {"days": wide},
    )
    return int(ch_client.rows(client, "SELECT count() FROM derive_scope")[0][0])


def scoped_chain() -> list[SqlFile]:
    """The views between ``raw_attempts`` and the marts' logic (not the materialized marts: a
    mart is a table, refreshed on its own), in dependency order."""
    files = [f for f in sql_files() if f.layer in VIEW_LAYERS and not f.materialized]
    names = {f.name for f in files}
    reads = relation_reads()
    chain: set[str] = set()
    grew = True
    while grew:
        more = {n for n in names - chain if reads[n] & ({"raw_attempts"} | chain)}
        chain |= more
        grew = bool(more)
    return dependency_order([f for f in files if f.name in chain], "the scoped views")


def _view_text(client: Any, db: str, name: str) -> str:
    rows = ch_client.rows(
        client,
        "SELECT create_table_query FROM system.tables "
        "WHERE database = {db:String} AND name = {name:String}",
        db=db,
        name=name,
    )
    text = str(rows[0][0]) if rows else ""
    if not text.startswith(f"CREATE VIEW {db}.{name} ") or re.search(rf"\bAS {db}\b", text):
        raise WarehouseError(f"{name}: unexpected definition, cannot redirect it")
    return text


def _copy_view(client: Any, db: str, name: str, new: str, names: list[str], suffix: str) -> str:
    """A view ``new``: the view ``name`` with each of ``names`` read as ``<name><suffix>``."""
    text = _view_text(client, db, name)
    for n in names:
        text = re.sub(rf"(?<![\w.`]){db}\.{n}(?![\w`])", f"{db}.{n}{suffix}", text)
    text = f"CREATE VIEW {db}.{new} " + text[len(f"CREATE VIEW {db}.{name} ") :]
    ch_client.command(client, f"DROP VIEW IF EXISTS {new}")
    ch_client.command(client, text)
    return new


def _scope_bases(client: Any, marts_suffix: str = "", where: str = _IN_SCOPE) -> list[str]:
    """(Re)create ``raw_attempts__rl_scoped`` and ``attempts__rl_scoped``: those tables
    (``attempts<marts_suffix>``) cut by ``where``; the views that read them see the new cut."""
    made: list[str] = []
    for base, table in (("raw_attempts", "raw_attempts"), ("attempts", f"attempts{marts_suffix}")):
        ch_client.command(client, f"DROP VIEW IF EXISTS {base}{SCOPED}")
        ch_client.command(
            client, f"CREATE VIEW {base}{SCOPED} AS SELECT * FROM {table} WHERE {where}"
        )
        made.append(f"{base}{SCOPED}")
    return made


def _create_scoped(
    client: Any, db: str, marts_suffix: str = "", where: str = _IN_SCOPE
) -> list[str]:
    """``<name>__rl_scoped`` views: ``raw_attempts`` and ``attempts`` (``attempts<marts_suffix>``:
    a full rebuild's parts read the ``__next`` table they fill) cut by ``where`` (the requests
    of ``derive_scope``, or a full rebuild's first part), and every view between them and the
    marts reading those; the names made, to drop after."""
    made = _scope_bases(client, marts_suffix, where)
    redirected = ["raw_attempts", "attempts"]
    for f in scoped_chain():
        made.append(_copy_view(client, db, f.name, f"{f.name}{SCOPED}", redirected, SCOPED))
        redirected.append(f.name)
    for f in materialized_files():
        if f.incremental_key != "logical_request_id":
            continue
        logic = f"{f.name}{LOGIC_SUFFIX}"
        made.append(_copy_view(client, db, logic, f"{logic}{SCOPED}", redirected, SCOPED))
    return made


def refresh_days(client: Any, days: list[date]) -> None:
    """Recompute ``days`` of the day-partitioned marts and swap them in day by day (see the
    module); rebuild the other marts whole and exchange them."""
    ids = [d.strftime("%Y%m%d") for d in days]
    db = _database(client)
    _scope(client, days)
    made = _create_scoped(client, db)
    listed = "[" + ", ".join(f"'{d.isoformat()}'" for d in days) + "]"
    try:
        for f in materialized_files():
            try:
                _create_next(client, f)
                logic = f"{f.name}{LOGIC_SUFFIX}"
                if f.incremental_key == "logical_request_id":
                    logic += SCOPED  # the requests of the days, not every request
                if f.incremental_key and partitioned(client, f.name):
                    if not ids:
                        continue
                    ch_client.command(
                        client,
                        f"INSERT INTO {f.name}{NEXT} SELECT * FROM {logic} "
                        f"WHERE has({listed}::Array(Date), local_day)",
                        **INSERT_SETTINGS,
                    )
                    for pid in ids:
                        ch_client.command(
                            client,
                            f"ALTER TABLE {f.name} REPLACE PARTITION ID '{pid}' "
                            f"FROM {f.name}{NEXT}",
                            allow_replace_partition_from_empty_source=1,
                        )
                else:
                    ch_client.command(
                        client,
                        f"INSERT INTO {f.name}{NEXT} SELECT * FROM {f.name}{LOGIC_SUFFIX}",
                        **INSERT_SETTINGS,
                    )
                    ch_client.command(client, f"EXCHANGE TABLES {f.name} AND {f.name}{NEXT}")
            finally:
                _drop_next(client, [f])
    finally:
        for name in reversed(made):
            ch_client.command(client, f"DROP VIEW IF EXISTS {name}")
        ch_client.command(client, "TRUNCATE TABLE derive_scope")


def fingerprint(client: Any, config_fingerprint: str = "") -> str:
    """What forces a full rebuild when it changes: the SQL, the configuration (the caller's
    fingerprint of it), the prices."""
    prices = ch_client.rows(
        client,
        "SELECT count(), max(coalesce(last_observed_at, valid_from)), max(valid_to), "
        "sum(cityHash64(version_id, input_per_mtok, output_per_mtok, cached_input_per_mtok, "
        "discount_pct)) FROM price_versions",
    )
    parts = [schema_hash(), config_fingerprint, repr(prices)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _matches_still_hold(client: Any) -> bool:
    changed = ch_client.rows(
        client,
        f"SELECT count() FROM (SELECT {_MATCH_KEY} FROM derived_matches "
        f"EXCEPT SELECT {_MATCH_KEY} FROM model_matches)",
    )
    return int(changed[0][0]) == 0


def refresh(
    client: Any,
    config_fingerprint: str = "",
    force: bool = False,
    slack: timedelta = LANDING_SLACK,
) -> str:
    """Bring the marts of the client's database up to date: ``full``, ``incremental`` or
    ``none`` (nothing landed since ``slack`` before the last build started)."""
    started = now_utc()
    t0 = time.monotonic()
    fp = fingerprint(client, config_fingerprint)
    last = ch_client.rows(
        client, "SELECT fingerprint, built_at FROM derived_state ORDER BY built_at DESC"
    )
    if force or not last or last[0][0] != fp or not _matches_still_hold(client):
        kind = "full"
        rebuild_full(client)
    else:
        days = touched_days(client, last[0][1].replace(tzinfo=None) - slack)
        if not days:
            return "none"
        kind = "incremental"
        refresh_days(client, days)
    record(client, fp, started, time.monotonic() - t0, kind)
    return kind


def behind(client: Any, slack: timedelta = timedelta(0)) -> bool:
    """Raw rows landed since the last build started (a run killed between its last batch and
    its refresh), or the marts were never built."""
    last = ch_client.rows(client, "SELECT max(built_at) FROM derived_state")
    if not last or last[0][0] is None:
        return True
    since = last[0][0].replace(tzinfo=None) - slack
    landed = ch_client.rows(
        client,
        "SELECT count() FROM (SELECT 1 FROM raw_attempts WHERE ingested_at > "
        "{since:DateTime64(6)} LIMIT 1)",
        since=since,
    )
    return bool(landed[0][0])


def record(client: Any, fp: str, started: datetime, seconds: float, kind: str) -> None:
    """The build in ``derived_state`` (the new row first, then the older ones deleted, so a
    reader always finds one) and the matches it used in ``derived_matches``."""
    ch_client.command(client, "TRUNCATE TABLE derived_matches")
    ch_client.command(client, f"INSERT INTO derived_matches SELECT {_MATCH_KEY} FROM model_matches")
    client.insert(
        "derived_state",
        [[fp, started, float(seconds), kind]],
        column_names=["fingerprint", "built_at", "seconds", "kind"],
        settings=SETTINGS,
    )
    ch_client.command(
        client,
        "DELETE FROM derived_state WHERE built_at < {built:DateTime64(6)}",
        parameters={"built": started},
    )
