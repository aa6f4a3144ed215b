"""A home whose warehouse is ClickHouse (``warehouse.backend = "clickhouse"``): the same door,
:class:`ClickHouseWarehouse`, as the DuckDB file's, so every command, page, the tuner and the
reports run unchanged on either.

* **Reads** (``connect(read_only=True)``) get a :class:`~.reader.Reader`: the app's DuckDB SQL
  transpiled and run on ClickHouse. ClickHouse never holds a reader back: marts are swapped in
  whole (:mod:`.refresh`), so ``fresh`` changes nothing here.
* **Ingest** does not come through :meth:`ClickHouseWarehouse.connect`: the engine ships each
  normalised batch with :mod:`.load` (tokens, then the cursor, then the counters).
* **The marts** are kept by :mod:`.refresh` (``collectors.warehouse.marts`` dispatches there).
* **Every other write** (prices, model matches, decisions, deliveries, alert logs, job runs,
  bills, evaluation scores, the configuration the SQL reads) runs its DuckDB SQL unchanged on a
  :class:`Mirror`: an in-memory DuckDB with the schema of ``sql/`` (copied from a template built
  once per process) whose small tables are filled from ClickHouse when a statement names them
  (all of them at ``BEGIN``: a transaction sees what it read). A query that names the big
  relations (``raw_attempts``, the marts, the views over them) and no table this session wrote
  runs on ClickHouse through the reader. When the unit of work ends, each table whose rows
  changed is written back: only the new rows when none was removed (an append: concurrent
  appends never conflict), else the whole table swapped in by ``EXCHANGE TABLES`` after checking
  that nobody changed it meanwhile (:class:`~collectors.errors.WarehouseBusy` when someone did:
  run again). DuckDB's constraints hold, as the mirror has the whole table.

ClickHouse has no transactions across tables: a unit of work's write-back swaps its tables in
one ``EXCHANGE TABLES`` statement (pair by pair, microseconds apart), and appends land table by
table. Clients are kept per thread and URL (chdb allows one data path per process).
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from collectors.config import Config
from collectors.errors import WarehouseBusy, WarehouseError
from collectors.warehouse.clickhouse import client as ch_client
from collectors.warehouse.clickhouse.apply import SETTINGS
from collectors.warehouse.connect import Warehouse, register_backend
from collectors.warehouse.ledger import now_utc
from collectors.warehouse.migrate import (
    LOGIC_SUFFIX,
    TABLE_LAYERS,
    apply,
    relation_reads,
    schema_hash,
    sql_files,
)
from collectors.warehouse.session import configure

log = logging.getLogger(__name__)

BIG_TABLES = ("raw_attempts", "raw_quarantine")  # never copied: ingest and the marts own them
SWAP = "__rl_swap"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUERY = re.compile(r"^\s*(\(\s*)*(SELECT|WITH|FROM|VALUES|SUMMARIZE|DESCRIBE)\b", re.I)
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|TRUNCATE|COPY|MERGE)\b", re.I)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)", re.I)
_ENSURE = re.compile(r"^\s*CREATE\s+(?:TABLE|VIEW|MACRO)\s+IF\s+NOT\s+EXISTS\b", re.I)
_TXN = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b", re.I)
_TTL_DAYS = re.compile(r"\bTTL\b.*?(?:toIntervalDay\(|INTERVAL\s+)(\d+)", re.S | re.I)
_COMMENT = re.compile(r"--[^\n]*")
_local = threading.local()


def _words(text: str) -> set[str]:
    return set(_WORD.findall(_COMMENT.sub(" ", text)))


@cache
def relations() -> tuple[frozenset[str], frozenset[str]]:
    """(the small tables a mirror copies, the relations only ClickHouse answers for: the big
    tables, the materialized marts and every view that reads one of them)."""
    files = sql_files()
    tables = {f.name for f in files if f.layer in TABLE_LAYERS}
    small = frozenset(tables - set(BIG_TABLES))
    reads = relation_reads()
    remote = set(BIG_TABLES) | {f.name for f in files if f.materialized}
    changed = True
    while changed:
        more = {n for n, r in reads.items() if n not in tables and r & remote} - remote
        remote |= more
        changed = bool(more)
    remote |= {f"{n}{LOGIC_SUFFIX}" for n in remote}
    return small, frozenset(remote)


@cache
def _closure() -> dict[str, frozenset[str]]:
    """Each relation and the small tables it reads, through views, at any depth."""
    small, _ = relations()
    direct = relation_reads()
    out: dict[str, frozenset[str]] = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(direct.get(n, ()))
        out[name] = frozenset(seen & small)
    return out


def named(sql: str) -> set[str]:
    """The relations of ``sql/`` a statement names (a column of the same name counts too: at
    worst a table is copied that was not needed)."""
    small, remote = relations()
    return _words(sql) & (small | remote | set(_closure()))


_TEMPLATE_LOCK = threading.Lock()


@cache
def _template() -> str:
    """A DuckDB file with the empty schema of ``sql/``, built once per process."""
    folder = Path(tempfile.mkdtemp(prefix="routeledger-mirror-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / f"schema-{schema_hash()}.duckdb"
    con = duckdb.connect(str(path))
    try:
        configure(con)
        apply(con, "the ClickHouse mirror's schema")
        con.execute("DROP TABLE IF EXISTS schema_version")
    finally:
        con.close()
    return str(path)


class Mirror:
    """A DuckDB connection look-alike for one unit of work that writes (see the module)."""

    def __init__(self, client: Any, reader: Any) -> None:
        self.client = client
        self.reader = reader
        with _TEMPLATE_LOCK:
            template = _template()
        self.con = duckdb.connect()
        configure(self.con)
        quoted = template.replace("'", "''")
        self.con.execute(f"ATTACH '{quoted}' AS rl_template (READ_ONLY)")
        self.con.execute("COPY FROM DATABASE rl_template TO memory")
        self.con.execute("DETACH rl_template")
        self.loaded: set[str] = set()
        self.written: set[str] = set()
        self.appended: set[str] = set()  # big tables a writer added rows to (bills' quarantine)
        self.in_transaction = False
        self._last: Any = None
        self._engines: dict[str, str] | None = None

    # -- the DuckDB connection's surface ------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        txn = _TXN.match(sql)
        if txn:
            word = txn.group(1).upper()
            if word in ("BEGIN", "START") and not self.in_transaction:
                self._load(relations()[0])  # what the transaction reads is what it wrote over
            self.con.execute(sql)
            self.in_transaction = word in ("BEGIN", "START")
            self._last = self.con
            return self
        text = _COMMENT.sub(" ", sql)
        if _ENSURE.match(text):  # the mirror has every table of sql/ already
            self._last = self.con
            return self
        names = named(sql)
        small, remote = relations()
        into = _INSERT_INTO.match(text)
        if into and into.group(1) in BIG_TABLES:  # appended as it is, never copied in
            target = into.group(1)
            if (names - {target}) & remote:
                raise WarehouseError(f"on ClickHouse, {target} takes rows, not a query of it")
            self._load(set().union(*(_closure().get(n, frozenset()) for n in names)) & small)
            self.appended.add(target)
            self._last = (
                self.con.execute(sql, params) if params is not None else self.con.execute(sql)
            )
            return self
        far = names & remote
        if far:
            near = set().union(*(_closure().get(n, frozenset()) for n in names)) & self.written
            if _QUERY.match(sql) and not near:
                self._last = self.reader.execute(sql, params)
                return self
            raise WarehouseError(
                f"on ClickHouse a write cannot read {', '.join(sorted(far))} in the same "
                f"statement as the tables it wrote ({', '.join(sorted(near)) or 'this one'})"
            )
        mine = set().union(*(_closure().get(n, frozenset({n})) for n in names)) & small
        self._load(mine)
        if _WRITE.match(text):
            self.written |= mine
        self._last = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        return self

    def executemany(self, sql: str, params: Sequence[Any]) -> Any:
        mine = set().union(*(_closure().get(n, frozenset({n})) for n in named(sql)))
        mine &= relations()[0]
        self._load(mine)
        self.written |= mine
        self.con.executemany(sql, params)
        self._last = self.con
        return self

    def fetchall(self) -> list[Any]:
        return list(self._last.fetchall()) if self._last is not None else []

    def fetchone(self) -> Any:
        return self._last.fetchone() if self._last is not None else None

    def df(self) -> Any:
        return self._last.df()

    @property
    def description(self) -> Any:
        return self._last.description if self._last is not None else None

    def __getattr__(self, name: str) -> Any:  # register, unregister, ...: the local DuckDB's
        return getattr(self.con, name)

    # -- copies in and out ----------------------------------------------------------------------
    def engines(self) -> dict[str, str]:
        if self._engines is None:
            rows = ch_client.rows(
                self.client,
                "SELECT name, engine FROM system.tables WHERE database = currentDatabase()",
            )
            self._engines = {str(n): str(e) for n, e in rows}
        return self._engines

    def _remote_rows(self, name: str) -> Any:
        final = " FINAL" if "Replacing" in self.engines().get(name, "") else ""
        try:
            return self.client.query_arrow(f"SELECT * FROM {name}{final}", settings=SETTINGS)
        except Exception as e:  # the driver's and chdb's errors share no base class
            raise WarehouseError(f"{name}: {' '.join(str(e).split())[:300]}") from e

    def _load(self, names: set[str] | frozenset[str]) -> None:
        todo = sorted(set(names) - self.loaded)
        if not todo:
            return
        if self.in_transaction:  # rows copied in now would vanish with a ROLLBACK
            raise WarehouseError(f"{', '.join(todo)} not copied before the transaction began")
        for name in todo:
            rows = self._remote_rows(name)
            self.con.register("rl_in", rows)
            try:
                self.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM rl_in")
            finally:
                self.con.unregister("rl_in")
            self.con.execute(f"CREATE TEMP TABLE rl_was_{name} AS SELECT * FROM {name}")
            self.loaded.add(name)

    def _count(self, sql: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0])

    def flush(self) -> list[str]:
        """Write back what changed (see the module); the tables written."""
        if self.in_transaction:
            self.con.execute("ROLLBACK")
            self.in_transaction = False
        swaps: list[str] = []
        done: list[str] = []
        for name in sorted(self.appended):
            _insert(self.client, name, self.con.sql(f"FROM {name}").to_arrow_table())
            self.con.execute(f"DELETE FROM {name}")
        self.appended.clear()
        for name in sorted(self.loaded):
            was = f"rl_was_{name}"
            removed = self._count(f"SELECT * FROM {was} EXCEPT ALL SELECT * FROM {name}")
            added = f"SELECT * FROM {name} EXCEPT ALL SELECT * FROM {was}"
            if not removed and not self._count(added):
                continue
            if not removed:
                _insert(self.client, name, self.con.sql(added).to_arrow_table())
            else:
                self._check_unchanged(name)
                ch_client.command(self.client, f"DROP TABLE IF EXISTS {name}{SWAP}")
                ch_client.command(self.client, f"CREATE TABLE {name}{SWAP} AS {name}")
                _insert(self.client, f"{name}{SWAP}", self.con.sql(f"FROM {name}").to_arrow_table())
                swaps.append(name)
            done.append(name)
        if swaps:
            ch_client.command(
                self.client, "EXCHANGE TABLES " + ", ".join(f"{n} AND {n}{SWAP}" for n in swaps)
            )
            for n in swaps:
                ch_client.command(self.client, f"DROP TABLE IF EXISTS {n}{SWAP}")
        for n in done:  # the next unit of work starts from what is there now
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE rl_was_{n} AS SELECT * FROM {n}")
        return done

    def _check_unchanged(self, name: str) -> None:
        """The table on ClickHouse still holds what this unit of work copied."""
        self.con.register("rl_now", self._remote_rows(name))
        try:
            was = f"rl_was_{name}"
            cols = ", ".join(
                f'"{c[0]}"' for c in self.con.execute(f"SELECT * FROM {was} LIMIT 0").description
            )
            a = self._count(f"SELECT {cols} FROM {was} EXCEPT ALL SELECT {cols} FROM rl_now")
            b = self._count(f"SELECT {cols} FROM rl_now EXCEPT ALL SELECT {cols} FROM {was}")
        finally:
            self.con.unregister("rl_now")
        if a or b:
            raise WarehouseBusy(
                f"{name} was changed by another RouteLedger process during this one's work; "
                "nothing of it was written: run again"
            )

    def close(self) -> None:
        self.con.close()


def _insert(client: Any, table: str, rows: Any) -> None:
    if rows.num_rows:  # a state row may repeat an older one: never deduplicated
        ch_client.insert_arrow(client, table, rows, insert_deduplicate=0)


class ClickHouseWarehouse(Warehouse):
    """The warehouse on ClickHouse at ``url`` (see the module)."""

    backend = "clickhouse"

    def __init__(
        self, url: str, password_env: str | None = None, retention_days: int | None = None
    ) -> None:
        target = ch_client.parse_url(url)
        super().__init__(Path(target.path) if target.kind == "chdb" else Path(url), 0.0, False)
        self.url = url
        self.target = target
        self.password_env = password_env or None
        self.retention_days = retention_days
        self.embedded = target.kind == "chdb"  # one process per data path

    def describe(self) -> str:
        return self.target.describe()

    def client(self, create: bool = False) -> Any:
        """This thread's client on the warehouse's database (one per thread: a session serves
        one query at a time)."""
        clients: dict[tuple[str, str | None], Any] = _local.__dict__.setdefault("clients", {})
        key = (self.url, self.password_env)
        if key not in clients:
            clients[key] = ch_client.connect(self.url, self.password_env, create=create)
        return clients[key]

    def reader(self) -> Any:
        from collectors.warehouse.clickhouse.reader import Reader  # sqlglot: this backend only

        readers: dict[tuple[str, str | None], Any] = _local.__dict__.setdefault("readers", {})
        key = (self.url, self.password_env)
        if key not in readers:
            readers[key] = Reader(self.client())
        return readers[key]

    def exists(self) -> bool:
        """The schema was applied (``routeledger init`` or a first ingest)."""
        if self.target.kind == "chdb" and not self.path.exists():
            return False
        try:
            rows = ch_client.rows(
                self.client(),
                "SELECT count() FROM system.tables WHERE database = currentDatabase() "
                "AND name = 'schema_version'",
            )
        except WarehouseError:
            return False
        return bool(rows[0][0])

    def retention(self) -> int | None:
        """The days ``raw_attempts`` keeps now (its TTL), None for ever."""
        rows = ch_client.rows(
            self.client(),
            "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() "
            "AND name = 'raw_attempts'",
        )
        m = _TTL_DAYS.search(str(rows[0][0])) if rows else None
        return int(m.group(1)) if m else None

    def version(self) -> str:
        """The newest part's time and the parts' count in the database: any insert, swap or
        mutation changes one of them."""
        rows = ch_client.rows(
            self.client(),
            "SELECT toString(max(modification_time)), count() FROM system.parts "
            "WHERE database = currentDatabase() AND active",
        )
        return f"{rows[0][0]}:{rows[0][1]}"

    @property
    def snapshot_path(self) -> Path:
        return self.path / "no-snapshot-on-clickhouse"

    def publish(self, con: Any) -> bool:
        return False  # marts are swapped in whole: readers never wait, no snapshot needed

    def readable_while_held(self) -> bool:
        return False

    @contextmanager
    def connect(self, read_only: bool = False, *, fresh: bool = False) -> Iterator[Any]:
        if read_only:
            if not self.exists():
                raise WarehouseError(
                    f"{self.describe()}: no warehouse yet; run `routeledger ingest` first"
                )
            reader = self.reader()
            try:
                yield reader
            finally:
                reader.close()
            return
        mirror = Mirror(self.client(create=True), self.reader())
        try:
            try:
                yield mirror
            finally:  # as DuckDB: what committed before a failure stays
                mirror.flush()
        finally:
            mirror.close()

    @contextmanager
    def attach(self, con: Any, alias: str = "wh", read_only: bool = False) -> Iterator[str]:
        raise WarehouseError("a ClickHouse warehouse is not attached to DuckDB")
        yield alias  # pragma: no cover

    def migrate(self, force: bool = False) -> bool:
        """Apply the generated SQL unless this schema is applied already; True when applied."""
        from collectors.warehouse.clickhouse import apply as ch_apply

        client = self.client(create=True)
        version = schema_hash()
        ch_client.command(
            client,
            "CREATE TABLE IF NOT EXISTS schema_version (version String, "
            "applied_at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY applied_at",
        )
        rows = ch_client.rows(
            client, "SELECT version FROM schema_version ORDER BY applied_at DESC LIMIT 1"
        )
        if rows and rows[0][0] == version and not force:
            if self.retention() != self.retention_days:  # warehouse.retention_days changed
                ch_apply.set_retention(client, self.retention_days)
            return False
        ch_apply.apply(client, self.target.database, self.retention_days)
        # the marts' shape may have changed
        ch_client.command(client, "TRUNCATE TABLE derived_state")
        row = {"version": version, "applied_at": now_utc()}
        ch_client.insert_row(client, "schema_version", row, insert_deduplicate=0)
        log.info("ClickHouse %s migrated to schema %s", self.describe(), version)
        return True


def from_config(cfg: Config) -> ClickHouseWarehouse:
    """``warehouse.url`` (empty: chdb in ``clickhouse/`` under the home), its password's
    variable and the retention."""
    url = str(cfg.get("warehouse.url")) or f"chdb://{cfg.resolve('clickhouse')}"
    days = int(cfg.get("warehouse.retention_days"))
    return ClickHouseWarehouse(url, str(cfg.get("warehouse.password_env")), days or None)


register_backend("clickhouse", from_config)
