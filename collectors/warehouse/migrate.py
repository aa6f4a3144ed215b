"""Migrations: ``sql/`` applied in layer order, once per version of the SQL.

Tables first, one folder per kind (``raw/`` landed data, ``ledger/`` bookkeeping of loads,
cursors, jobs and refreshes, ``derived/`` caches rebuilt from the others, ``config/`` mirrors
of ``routeledger.toml``, ``state/`` what people decided), each ``CREATE TABLE IF NOT EXISTS``;
a table file with the line ``-- on schema change: recreate`` is a cache, dropped and recreated
instead of migrated. Then ``macros/``, then ``staging/``, ``intermediate/`` and ``marts/`` as
views named after their file (a ``-- macro: (a, b)`` header makes a table macro taking those
parameters; ``-- materialize: table`` a table rebuilt from the view ``<name>__logic``, see
:mod:`collectors.warehouse.marts`). The hash of all SQL files is the schema version; nothing is
re-applied when it has not changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

from collectors.errors import WarehouseError
from collectors.warehouse.session import transaction

log = logging.getLogger(__name__)

TABLE_LAYERS = ("raw", "ledger", "derived", "config", "state")
VIEW_LAYERS = ("staging", "intermediate", "marts")
LAYERS = (*TABLE_LAYERS, "macros", *VIEW_LAYERS)
SCHEMA_VERSION = 1  # bump when raw DDL changes incompatibly (a migration step is then needed)
LOGIC_SUFFIX = "__logic"
_MACRO_RE = re.compile(r"^--\s*macro:\s*\(([^)]*)\)", re.MULTILINE)
_MATERIALIZE_RE = re.compile(r"^--\s*materialize:\s*table\s*$", re.MULTILINE)
_INCREMENTAL_RE = re.compile(
    r"^--\s*incremental:\s*(logical_request_id|local_day)\s*$", re.MULTILINE
)
_RECREATE_RE = re.compile(r"^--\s*on schema change:\s*recreate\b", re.MULTILINE)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMENT_RE = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class SqlFile:
    layer: str
    name: str
    text: str

    @property
    def macro_params(self) -> str | None:
        m = _MACRO_RE.search(self.text[:2000])
        return m.group(1).strip() if m else None

    @property
    def materialized(self) -> bool:
        """A ``-- materialize: table`` mart: its logic is the view ``<name>__logic`` and the
        relation readers query is the table ``<name>``."""
        return bool(_MATERIALIZE_RE.search(self.text[:2000]))

    @property
    def incremental_key(self) -> str | None:
        """``-- incremental: logical_request_id`` (recompute the requests in ``derive_scope``) or
        ``local_day`` (the days in ``derive_scope_days``); None: always rebuilt whole."""
        m = _INCREMENTAL_RE.search(self.text[:2000])
        return m.group(1) if m else None

    @property
    def recreated(self) -> bool:
        """A cache table: dropped and recreated on a schema change, never migrated."""
        return self.layer in TABLE_LAYERS and bool(_RECREATE_RE.search(self.text[:2000]))


def sql_files() -> list[SqlFile]:
    """Every SQL file shipped in the ``sql`` package, in layer then name order."""
    root = resources.files("sql")
    out: list[SqlFile] = []
    for layer in LAYERS:
        folder = root / layer
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".sql"):
                out.append(SqlFile(layer, entry.name[:-4], entry.read_text(encoding="utf-8")))
    return out


@cache
def relation_reads() -> dict[str, frozenset[str]]:
    """Each file's name and the relations of ``sql/`` (tables, views, marts; not macros) its text
    names outside comments, not itself. A column of the same name as a relation counts too:
    callers use this to over-approximate what a view reads."""
    files = sql_files()
    names = {f.name for f in files if f.layer != "macros"}
    return {
        f.name: frozenset(set(_NAME_RE.findall(_COMMENT_RE.sub(" ", f.text))) & names - {f.name})
        for f in files
    }


def table_files() -> list[SqlFile]:
    """The DDL of every table (``CREATE TABLE IF NOT EXISTS``: safe to run again)."""
    return [f for f in sql_files() if f.layer in TABLE_LAYERS]


def schema_hash(files: list[SqlFile] | None = None) -> str:
    h = hashlib.sha256(str(SCHEMA_VERSION).encode())
    for f in files if files is not None else sql_files():
        h.update(f"{f.layer}/{f.name}\n{f.text}\n".encode())
    return h.hexdigest()[:16]


def dependency_order(files: list[SqlFile], what: str) -> list[SqlFile]:
    """``files`` ordered so each comes after the ones among them it names (the one dependency
    sort: views within a layer, materialized marts); WarehouseError on a cycle."""
    names = {f.name for f in files}
    ordered: list[SqlFile] = []
    done: set[str] = set()
    pending = list(files)
    while pending:
        ready = [
            f for f in pending if not (set(_NAME_RE.findall(f.text)) & names) - done - {f.name}
        ]
        if not ready:
            cycle = ", ".join(f.name for f in pending)
            raise WarehouseError(f"{what} reference each other in a cycle: {cycle}")
        ordered += ready
        done |= {f.name for f in ready}
        pending = [f for f in pending if f.name not in done]
    return ordered


def materialized_files() -> list[SqlFile]:
    """Materialized marts, each after the materialized marts it reads."""
    files = [f for f in sql_files() if f.layer in VIEW_LAYERS and f.materialized]
    return dependency_order(files, "materialized marts")


def request_keyed_marts() -> list[str]:
    """The materialized marts keyed by logical request (``-- incremental: logical_request_id``)
    that read, among the materialized marts, only each other (directly or through views), in
    dependency order: a full rebuild can derive them part by part (a part being some of the
    requests), before the other marts, which then read them whole."""
    files = materialized_files()
    marts = {f.name for f in files}
    keyed = {f.name for f in files if f.incremental_key == "logical_request_id"}
    reads = relation_reads()

    def marts_read(name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(reads.get(name, ()))
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(reads.get(n, ()))
        return seen & marts

    return [f.name for f in files if f.name in keyed and marts_read(f.name) <= keyed]


def view_ddl(f: SqlFile) -> str:
    body = f.text.strip().rstrip(";")
    params = f.macro_params
    if params is not None:
        return f"CREATE OR REPLACE MACRO {f.name}({params}) AS TABLE\n{body}"
    if f.materialized:
        return (
            f"CREATE OR REPLACE VIEW {f.name}{LOGIC_SUFFIX} AS\n{body};\n"
            f"CREATE OR REPLACE TABLE {f.name} AS SELECT * FROM {f.name}{LOGIC_SUFFIX} LIMIT 0"
        )
    return f"CREATE OR REPLACE VIEW {f.name} AS\n{body}"


def apply(con: duckdb.DuckDBPyConnection, where: Path | str, force: bool = False) -> bool:
    """Apply ``sql/`` on ``con`` unless this version is applied already; True when applied."""
    files = sql_files()
    version = schema_hash(files)
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version VARCHAR, applied_at TIMESTAMP)")
    row = con.execute(
        "SELECT version FROM schema_version ORDER BY applied_at DESC LIMIT 1"
    ).fetchone()
    if row and row[0] == version and not force:
        return False
    with transaction(con):
        for f in files:
            if f.recreated:
                con.execute(f"DROP TABLE IF EXISTS {f.name}")
        for f in files:
            if f.layer in TABLE_LAYERS or f.layer == "macros":
                con.execute(f.text)
        _create_views(con, [f for f in files if f.layer in VIEW_LAYERS])
        con.execute("DELETE FROM derived_state")  # the marts' shape may have changed
        con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [version])
    log.info("warehouse %s migrated to schema %s", where, version)
    return True


def _drop_other_kind(con: duckdb.DuckDBPyConnection, name: str, kind: str) -> None:
    """A mart that became a table (or a view again) replaces the object of the other kind."""
    row = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND schema_name = 'main' "
        "AND NOT internal",
        [name, name],
    ).fetchall()
    if row and row[0][0] != kind:
        con.execute(f"DROP {row[0][0]} {name}")


def _create_views(con: duckdb.DuckDBPyConnection, files: list[SqlFile]) -> None:
    """Create views in layer order and, within a layer, after the views they reference (earlier
    layers are done; later ones cannot be used)."""
    for layer in VIEW_LAYERS:
        for f in dependency_order([f for f in files if f.layer == layer], f"sql/{layer}: views"):
            try:
                _drop_other_kind(con, f.name, "TABLE" if f.materialized else "VIEW")
                con.execute(view_ddl(f))
            except duckdb.Error as e:
                raise WarehouseError(f"sql/{f.layer}/{f.name}.sql: {e}") from e


def ensure_tables(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Create the tables ``names`` from their DDL (idempotent), for a short write that must not
    run the whole migration (which, on a new schema, empties the materialized marts until the
    next refresh)."""
    for f in table_files():
        if f.name in names:
            con.execute(f.text)
