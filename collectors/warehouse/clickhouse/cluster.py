"""The generated ClickHouse SQL for a replicated, sharded cluster (``ON CLUSTER``, Keeper):
``python -m collectors.warehouse.clickhouse.cluster --cluster NAME [--database rl] > ddl.sql``,
run once with ``clickhouse-client --multiquery < ddl.sql`` against any node.

The layout (docs/clickhouse.md says why):

* ``raw_attempts`` and the two big marts, ``attempts`` and ``logical_requests``, are sharded by
  ``cityHash64(logical_request_id)``: each shard holds whole logical requests in
  ``<name>_shard`` (a Replicated engine, its Keeper path per shard), and ``<name>`` is the
  ``Distributed`` table over them that readers query.
* Every other table (bookkeeping, prices, configuration, decisions, bills, the small marts) is
  replicated to every node (one Keeper path for all shards): small, and joined everywhere.
* ``<db>_build`` holds the same views over each node's *local* data (``raw_attempts`` there is
  the shard's part), so the sharded marts are built on every shard from its own requests, with
  no data crossing the network: ``INSERT INTO <db>.attempts_shard SELECT * FROM
  <db>_build.attempts__logic`` on one replica of each shard. The small marts are built once from
  ``<db>``'s views, which read the Distributed tables.
* Deduplication of re-sent blocks uses ``replicated_deduplication_window`` (tokens kept in Keeper)
  where a single node uses ``non_replicated_deduplication_window``.

The text is derived from the single-node files of ``sql/clickhouse/`` (never edited by hand), so
the cluster DDL follows the same one source.
"""

from __future__ import annotations

import argparse
import re
import sys

from collectors.warehouse.clickhouse.apply import generated_text, statements
from collectors.warehouse.migrate import (
    TABLE_LAYERS,
    VIEW_LAYERS,
    SqlFile,
    dependency_order,
    sql_files,
)

SHARD_KEY = "cityHash64(logical_request_id)"
SHARDED = ("raw_attempts", "attempts", "logical_requests")
"""Tables split across shards by logical request (the rest is replicated to every node)."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\b", re.S)
_CREATE_VIEW = re.compile(r"^CREATE (OR REPLACE )?VIEW (\w+) AS\b", re.S)
_CREATE_FUNCTION = re.compile(r"^CREATE (OR REPLACE )?FUNCTION (\w+) AS\b", re.S)
_ALTER = re.compile(r"^ALTER TABLE (\w+) ", re.S)
_ENGINE = re.compile(r"ENGINE = (\w*MergeTree)(?:\(([^)]*)\))?")
_LOGIC_FROM = re.compile(r"EMPTY AS SELECT \* FROM (\w+)")


def _engine(stmt: str, path: str) -> str:
    """``ENGINE = XMergeTree(args)`` -> ``ReplicatedXMergeTree('<path>', '{replica}', args)``."""

    def swap(m: re.Match[str]) -> str:
        args = f"'{path}', '{{replica}}'" + (f", {m.group(2)}" if m.group(2) else "")
        return f"ENGINE = Replicated{m.group(1)}({args})"

    out = _ENGINE.sub(swap, stmt, count=1)
    return out.replace("non_replicated_deduplication_window", "replicated_deduplication_window")


def _on(cluster: str) -> str:
    return f"ON CLUSTER '{cluster}'"


def _table(stmt: str, name: str, db: str, cluster: str, build: str | None = None) -> list[str]:
    """One table's CREATE: sharded (``_shard`` + Distributed) or replicated to every node; the
    mart tables' ``EMPTY AS SELECT`` reads its logic view in ``build`` when given."""
    on = _on(cluster)
    if build:
        stmt = _LOGIC_FROM.sub(lambda m: f"EMPTY AS SELECT * FROM {build}.{m.group(1)}", stmt)
    if name not in SHARDED:
        head = f"CREATE TABLE IF NOT EXISTS {db}.{name} {on}"
        body = _engine(stmt, f"/clickhouse/tables/all/{db}/{name}")
        return [_CREATE_TABLE.sub(head, body, count=1)]
    head = f"CREATE TABLE IF NOT EXISTS {db}.{name}_shard {on}"
    local = _engine(stmt, f"/clickhouse/tables/{{shard}}/{db}/{name}")
    return [
        _CREATE_TABLE.sub(head, local, count=1),
        f"CREATE TABLE IF NOT EXISTS {db}.{name} {on} AS {db}.{name}_shard\n"
        f"ENGINE = Distributed('{cluster}', {db}, {name}_shard, {SHARD_KEY})",
    ]


def _build_view(name: str, db: str, build: str, cluster: str) -> str:
    """What ``name`` is in the build database: the shard's own part, or the replicated table."""
    source = f"{db}.{name}_shard" if name in SHARDED else f"{db}.{name}"
    return f"CREATE OR REPLACE VIEW {build}.{name} {_on(cluster)} AS SELECT * FROM {source}"


def _alter(stmt: str, name: str, db: str, cluster: str) -> list[str]:
    """A column added to both the shards' tables and the Distributed one; a storage setting to
    the tables that store."""
    stmt = stmt.replace("non_replicated_deduplication_window", "replicated_deduplication_window")
    names = [name]
    if name in SHARDED:
        names = [f"{name}_shard"] if "MODIFY SETTING" in stmt else [f"{name}_shard", name]
    return [_ALTER.sub(f"ALTER TABLE {db}.{n} {_on(cluster)} ", stmt, count=1) for n in names]


def _view(stmt: str, cluster: str) -> str:
    m = _CREATE_VIEW.match(stmt)
    assert m is not None
    return _CREATE_VIEW.sub(f"CREATE OR REPLACE VIEW {m.group(2)} {_on(cluster)} AS", stmt, count=1)


def _views(f: SqlFile, db: str, build: str, cluster: str) -> list[str]:
    """A view file in both databases (``USE`` decides where unqualified names bind); a
    materialized mart's table created once, from its logic view in the build database when the
    mart is sharded (built per shard), else in ``db`` (built once over the Distributed tables)."""
    out: list[str] = []
    where = build if f.name in SHARDED else db
    for database in (build, db):
        out.append(f"USE {database}")
        for stmt in statements(generated_text(f)):
            if _CREATE_VIEW.match(stmt):
                out.append(_view(stmt, cluster))
            elif (m := _CREATE_TABLE.match(stmt)) and database == db:
                out += _table(stmt, m.group(1), db, cluster, where)
    if f.materialized:
        out.append(_build_view(f.name, db, build, cluster))
    return out


def ddl(cluster: str, db: str = "routeledger") -> list[str]:
    """Every statement for a fresh cluster, in the order to run them."""
    if not (_IDENT.fullmatch(cluster) and _IDENT.fullmatch(db)):
        raise ValueError("the cluster and database names are identifiers (letters, digits, _)")
    build = f"{db}_build"
    on = _on(cluster)
    out = [f"CREATE DATABASE IF NOT EXISTS {d} {on}" for d in (db, build)]
    files = sql_files()
    for f in files:
        if f.layer not in TABLE_LAYERS:
            continue
        for stmt in statements(generated_text(f)):
            if m := _CREATE_TABLE.match(stmt):
                out += _table(stmt, m.group(1), db, cluster)
            elif m := _ALTER.match(stmt):
                out += _alter(stmt, m.group(1), db, cluster)
        out.append(_build_view(f.name, db, build, cluster))
    for f in files:
        if f.layer == "macros":
            for stmt in statements(generated_text(f)):
                name = _CREATE_FUNCTION.match(stmt)
                if name:
                    head = f"CREATE OR REPLACE FUNCTION {name.group(2)} {on} AS"
                    out.append(_CREATE_FUNCTION.sub(head, stmt, count=1))
    for layer in VIEW_LAYERS:
        for f in dependency_order([f for f in files if f.layer == layer], f"sql/{layer}: views"):
            out += _views(f, db, build, cluster)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cluster", required=True, help="the cluster's name in remote_servers")
    ap.add_argument("--database", default="routeledger")
    args = ap.parse_args(argv)
    try:
        stmts = ddl(args.cluster, args.database)
    except ValueError as e:
        print(f"cluster: {e}", file=sys.stderr)
        return 2
    sys.stdout.write("".join(f"{s};\n\n" for s in stmts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
