"""The one DuckDB file: connections, migrations, and the lock rule.

DuckDB lets one process write *or* several read, and a held connection locks every other
process out. So no connection here outlives one unit of work: :meth:`Warehouse.connect` and
:meth:`Warehouse.attach` are context managers that open, retry while another process holds the
lock (exponential backoff with jitter, bounded by ``lock_timeout``), and always close.

Migrations apply ``sql/`` in layer order: ``raw/`` DDL (tables, idempotent), then ``staging/``,
``intermediate/`` and ``marts/`` as views named after their file (a file whose header has a
``-- macro: (a, b)`` line becomes a table macro taking those parameters). The hash of all SQL
files is the schema version; nothing is re-applied when it has not changed.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

from collectors.errors import WarehouseBusy, WarehouseError

log = logging.getLogger(__name__)
T = TypeVar("T")

LAYERS = ("raw", "macros", "staging", "intermediate", "marts")
VIEW_LAYERS = ("staging", "intermediate", "marts")
SCHEMA_VERSION = 1  # bump when raw DDL changes incompatibly (a migration step is then needed)
# another process holds the file, or (same process) a connection of the other mode is open
_LOCK_MARKERS = (
    "could not set lock",
    "conflicting lock",
    "database is locked",
    "different configuration",
)
_MACRO_RE = re.compile(r"^--\s*macro:\s*\(([^)]*)\)", re.MULTILINE)
_MATERIALIZE_RE = re.compile(r"^--\s*materialize:\s*table\s*$", re.MULTILINE)
_INCREMENTAL_RE = re.compile(
    r"^--\s*incremental:\s*(logical_request_id|local_day)\s*$", re.MULTILINE
)
LOGIC_SUFFIX = "__logic"
# raw/ tables that only cache what can be rebuilt from the others: dropped and recreated on a
# schema change instead of migrated column by column
DERIVED_TABLES = ("derived_state", "derived_matches", "derive_scope", "derive_scope_days")


def is_lock_error(e: BaseException) -> bool:
    return isinstance(e, duckdb.Error) and any(m in str(e).lower() for m in _LOCK_MARKERS)


MEMORY_LIMIT = "1536MB"  # per connection; DuckDB spills to disk beyond it (ingest target < 2 GB)


def configure(con: duckdb.DuckDBPyConnection, memory_limit: str = MEMORY_LIMIT) -> None:
    """Session settings every RouteLedger connection uses."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")


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
        relation readers query is the table ``<name>``, rebuilt by :meth:`Warehouse.rebuild`."""
        return bool(_MATERIALIZE_RE.search(self.text[:2000]))

    @property
    def incremental_key(self) -> str | None:
        """``-- incremental: logical_request_id`` (recompute the requests in ``derive_scope``) or
        ``local_day`` (the days in ``derive_scope_days``); None: always rebuilt whole."""
        m = _INCREMENTAL_RE.search(self.text[:2000])
        return m.group(1) if m else None


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


def schema_hash(files: list[SqlFile] | None = None) -> str:
    h = hashlib.sha256(str(SCHEMA_VERSION).encode())
    for f in files if files is not None else sql_files():
        h.update(f"{f.layer}/{f.name}\n{f.text}\n".encode())
    return h.hexdigest()[:16]


class Warehouse:
    def __init__(self, path: str | Path, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    # -- connections -------------------------------------------------------------------------
    def _retry(self, what: str, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return fn()
            except duckdb.Error as e:
                if not is_lock_error(e):
                    raise WarehouseError(f"{self.path}: {what}: {e}") from e
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WarehouseBusy(
                        f"{self.path}: another RouteLedger process held the warehouse for more "
                        f"than {self.lock_timeout:g}s; try again, or raise "
                        "warehouse.lock_timeout_seconds"
                    ) from e
                time.sleep(min(delay * (0.5 + random.random()), remaining))
                delay = min(delay * 2, 1.0)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work. Read-only connections never create the file."""
        if read_only and not self.path.exists():
            raise WarehouseError(f"{self.path}: no warehouse yet; run `routeledger ingest` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._retry("open", lambda: duckdb.connect(str(self.path), read_only=read_only))
        try:
            configure(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def attach(
        self, con: duckdb.DuckDBPyConnection, alias: str = "wh", read_only: bool = False
    ) -> Iterator[str]:
        """Attach the warehouse to an (in-memory) connection for one unit of work."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = " (READ_ONLY)" if read_only else ""
        target = str(self.path).replace("'", "''")
        self._retry("attach", lambda: con.execute(f"ATTACH '{target}' AS {alias}{mode}"))
        try:
            yield alias
        finally:
            con.execute(f"DETACH {alias}")

    # -- migrations --------------------------------------------------------------------------
    def migrate(self, force: bool = False) -> bool:
        """Apply ``sql/``; returns True when anything was (re)applied."""
        files = sql_files()
        version = schema_hash(files)
        with self.connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version VARCHAR, applied_at TIMESTAMP)"
            )
            row = con.execute(
                "SELECT version FROM schema_version ORDER BY applied_at DESC LIMIT 1"
            ).fetchone()
            if row and row[0] == version and not force:
                return False
            con.execute("BEGIN")
            try:
                for name in DERIVED_TABLES:  # caches of the raw tables: rebuilt, never migrated
                    con.execute(f"DROP TABLE IF EXISTS {name}")
                for f in files:
                    if f.layer in ("raw", "macros"):
                        con.execute(f.text)
                _create_views(con, [f for f in files if f.layer in VIEW_LAYERS])
                con.execute("DELETE FROM derived_state")  # the marts' shape may have changed
                con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [version])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            log.info("warehouse %s migrated to schema %s", self.path, version)
            return True


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


def materialized_files() -> list[SqlFile]:
    """Materialized marts, each after the materialized marts it reads."""
    files = [f for f in sql_files() if f.layer in VIEW_LAYERS and f.materialized]
    names = {f.name for f in files}
    ordered: list[SqlFile] = []
    while files:
        done = {f.name for f in ordered}
        ready = [
            f
            for f in files
            if not (set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.text)) & names) - done - {f.name}
        ]
        if not ready:
            raise WarehouseError("materialized marts reference each other in a cycle")
        ordered += ready
        files = [f for f in files if f not in ready]
    return ordered


def rebuild_materialized(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every materialized mart from its logic view, in dependency order, in the caller's
    transaction (so readers see the old tables or the new ones, never a mix)."""
    con.execute("DELETE FROM derive_scope")
    con.execute("DELETE FROM derive_scope_days")
    _unscope(con)  # every request (see update_materialized)
    for f in materialized_files():
        con.execute(f"CREATE OR REPLACE TABLE {f.name} AS SELECT * FROM {f.name}{LOGIC_SUFFIX}")


def update_materialized(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute, in the caller's transaction, only the requests listed in ``derive_scope`` (and
    the days they touch) in every incremental mart; the others are rebuilt whole. The scope is
    emptied before returning."""
    # every attempt of a request in scope starts at or after the earliest start of the
    # request in the marts (logical_requests) or in the loads not derived yet
    since = con.execute(
        "SELECT least((SELECT min(started_at) FROM logical_requests WHERE logical_request_id IN "
        "    (SELECT logical_request_id FROM derive_scope)),"
        " (SELECT min(r.started_at) FROM raw_attempts r WHERE r.load_id IN (SELECT load_id FROM "
        "    (SELECT load_id, count(*) AS n FROM raw_attempts GROUP BY load_id) x "
        "    FULL JOIN (SELECT load_id, count(*) AS n FROM attempts GROUP BY load_id) a "
        "    USING (load_id) WHERE x.n IS DISTINCT FROM a.n)))"
    ).fetchall()[0][0]
    con.execute("SET VARIABLE rl_derive_scope = true")
    con.execute("SET VARIABLE rl_derive_since = ?", [since or datetime(1, 1, 1)])
    try:
        _update_scoped(con)
    finally:
        _unscope(con)
    files = materialized_files()
    for f in files:  # the rest read the updated tables whole
        if f.incremental_key is None:
            con.execute(f"CREATE OR REPLACE TABLE {f.name} AS SELECT * FROM {f.name}{LOGIC_SUFFIX}")
    con.execute("DELETE FROM derive_scope_days")


def _unscope(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("RESET VARIABLE rl_derive_scope")
    con.execute("RESET VARIABLE rl_derive_since")


def _update_scoped(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO derive_scope_days SELECT DISTINCT local_day FROM attempts "
        "WHERE logical_request_id IN (SELECT logical_request_id FROM derive_scope)"
    )
    files = materialized_files()
    for f in files:
        key = f.incremental_key
        logic = f"{f.name}{LOGIC_SUFFIX}"
        if key == "logical_request_id":
            con.execute(
                f"DELETE FROM {f.name} WHERE logical_request_id IN "
                "(SELECT logical_request_id FROM derive_scope)"
            )
            con.execute(f"INSERT INTO {f.name} SELECT * FROM {logic}")  # the views read the scope
            if f.name == "attempts":
                con.execute(
                    "INSERT INTO derive_scope_days SELECT DISTINCT local_day FROM attempts "
                    "WHERE logical_request_id IN (SELECT logical_request_id FROM derive_scope)"
                )
        elif key == "local_day":
            # the days as bound constants, not a subquery: a constant filter reaches the scan
            # of the attempts below the view's GROUP BY, so only those days are read
            touched = [r[0] for r in con.execute(
                "SELECT DISTINCT local_day FROM derive_scope_days ORDER BY 1").fetchall()]  # fmt: skip
            if not touched:
                continue
            days = "(" + ", ".join("?" for _ in touched) + ")"
            con.execute(f"DELETE FROM {f.name} WHERE local_day IN {days}", touched)
            con.execute(
                f"INSERT INTO {f.name} SELECT * FROM {logic} WHERE local_day IN {days}", touched
            )
    con.execute("DELETE FROM derive_scope")


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
    """Create views in layer order and, within a layer, after the views they reference."""
    done: set[str] = set()
    for layer in VIEW_LAYERS:
        pending = [f for f in files if f.layer == layer]
        names = {f.name for f in pending}  # earlier layers are done; later ones cannot be used
        while pending:
            ready = [
                f
                for f in pending
                if not (set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.text)) & names)
                - done
                - {f.name}
            ]
            if not ready:
                cycle = ", ".join(f.name for f in pending)
                raise WarehouseError(f"sql/{layer}: views reference each other in a cycle: {cycle}")
            for f in ready:
                try:
                    _drop_other_kind(con, f.name, "TABLE" if f.materialized else "VIEW")
                    con.execute(view_ddl(f))
                except duckdb.Error as e:
                    raise WarehouseError(f"sql/{f.layer}/{f.name}.sql: {e}") from e
                done.add(f.name)
            pending = [f for f in pending if f.name not in done]
