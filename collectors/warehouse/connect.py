"""Connections to the one DuckDB file, and the lock rule.

DuckDB lets one process write *or* several read, and a held connection locks every other
process out. So no connection here outlives one unit of work: :meth:`Warehouse.connect` and
:meth:`Warehouse.attach` are context managers that open, retry while another process holds the
lock (exponential backoff with jitter, bounded by ``lock_timeout``), and always close. A reader
never waits where a read snapshot is published (:mod:`collectors.warehouse.snapshot`): while a
writer holds the file, it reads the snapshot.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from collectors.config import Config
from collectors.errors import WarehouseBusy, WarehouseError
from collectors.warehouse import snapshot
from collectors.warehouse.migrate import apply
from collectors.warehouse.session import configure

T = TypeVar("T")
log = logging.getLogger(__name__)

# another process holds the file, or (same process) a connection of the other mode is open
_LOCK_MARKERS = (
    "could not set lock",
    "conflicting lock",
    "database is locked",
    "different configuration",
)


_DISK_FULL = ("no space left on device", "disk full", "disk is full", "not enough space")


def _is_storage(e: BaseException, path: Path) -> bool:
    """An I/O failure of the warehouse file: a full disk named in any DuckDB error, or DuckDB's
    IOException about this file (not one about a log file read in the same unit of work)."""
    if not isinstance(e, duckdb.Error):
        return False
    text = str(e).lower()
    if any(m in text for m in _DISK_FULL):
        return True
    return isinstance(e, duckdb.IOException) and path.name.lower() in text


def _quietly(fn: Callable[[], object]) -> None:
    """Clean-up after a failure: its own failure is logged, never raised over the first one."""
    try:
        fn()
    except duckdb.Error as e:
        log.debug("clean-up after a failure did not complete: %s", e)


def is_lock_error(e: BaseException) -> bool:
    return isinstance(e, duckdb.Error) and any(m in str(e).lower() for m in _LOCK_MARKERS)


_BACKENDS: dict[str, Callable[[Config], Warehouse]] = {}


def register_backend(name: str, factory: Callable[[Config], Warehouse]) -> None:
    """``warehouse.backend = name`` builds its warehouse with ``factory`` (the ClickHouse
    package registers itself; this module imports no backend)."""
    _BACKENDS[name] = factory


class Warehouse:
    """The warehouse file and how long to wait for another process's lock."""

    backend = "duckdb"
    embedded = False  # an engine inside the one process that opens it (chdb)

    def __init__(
        self, path: str | Path, lock_timeout: float = 30.0, publish_snapshot: bool = True
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.publish_snapshot = publish_snapshot

    @classmethod
    def from_config(cls, cfg: Config) -> Warehouse:
        """The one way the code builds the configured warehouse (``warehouse.backend``)."""
        backend = str(cfg.get("warehouse.backend"))
        if backend != "duckdb":
            if backend not in _BACKENDS:
                raise WarehouseError(f"warehouse.backend {backend!r} is not available")
            return _BACKENDS[backend](cfg)
        return cls(
            cfg.warehouse_path,
            float(cfg.get("warehouse.lock_timeout_seconds")),
            bool(cfg.get("warehouse.read_snapshot")),
        )

    def exists(self) -> bool:
        """There is a warehouse to read (a first ingest or ``routeledger init`` made it)."""
        return self.path.exists()

    def describe(self) -> str:
        """The warehouse in a message."""
        return str(self.path)

    def version(self) -> str:
        """Changes whenever anything in the warehouse may have (a cache key for readers): the
        file's and its write-ahead log's modification times."""
        wal = self.path.with_name(self.path.name + ".wal")
        mtime = self.path.stat().st_mtime if self.path.exists() else 0.0
        return f"{mtime}:{wal.stat().st_mtime if wal.exists() else 0.0}"

    @property
    def snapshot_path(self) -> Path:
        """The read snapshot readers open while a writer holds the file."""
        return snapshot.path_of(self.path)

    def publish(self, con: duckdb.DuckDBPyConnection) -> bool:
        """After a refresh: publish the committed state as the read snapshot (``con``: this
        warehouse's write connection, no transaction open), or remove the snapshot when
        ``warehouse.read_snapshot`` is off. True when a snapshot was published."""
        if not self.publish_snapshot:
            snapshot.remove(self.path)
            return False
        return snapshot.publish(con, self.path) is not None

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

    def readable_while_held(self) -> bool:
        """A writer holds the file and a read snapshot of this schema is there to read meanwhile
        (the writer refreshes the marts when it is done). One try at each, no wait."""
        if not self.path.exists() or not self.snapshot_path.exists():
            return False
        try:
            duckdb.connect(str(self.path)).close()
            return False
        except duckdb.Error as e:
            if not is_lock_error(e):
                return False
        try:
            con = duckdb.connect(str(self.snapshot_path), read_only=True)
        except duckdb.Error:
            return False
        try:
            return snapshot.usable(con)
        finally:
            _quietly(con.close)

    def _open_for_reading(self, fresh: bool) -> duckdb.DuckDBPyConnection:
        """The file itself when no writer holds it; else, unless ``fresh``, the read snapshot at
        once (when there is one of this schema); else wait for the writer as any open does."""
        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as e:
            if not is_lock_error(e):
                raise WarehouseError(f"{self.path}: open: {e}") from e
        if not fresh and self.snapshot_path.exists():
            try:
                con = duckdb.connect(str(self.snapshot_path), read_only=True)
            except duckdb.Error as e:  # replaced or removed under us: wait instead
                log.debug("read snapshot not opened: %s", e)
            else:
                if snapshot.usable(con):
                    return con
                _quietly(con.close)
        return self._retry("open", lambda: duckdb.connect(str(self.path), read_only=True))

    @contextmanager
    def connect(
        self, read_only: bool = False, *, fresh: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work. Read-only connections never create the file, and
        read the snapshot while a writer holds the file, unless ``fresh`` (a reader that is about
        to write, or must see the latest bookkeeping, waits for the writer instead). An I/O
        failure of the file (a full disk, a lost mount) becomes one :class:`WarehouseError`
        that names its cause, whether the work or the final checkpoint hit it."""
        if read_only and not self.path.exists():
            raise WarehouseError(f"{self.path}: no warehouse yet; run `routeledger ingest` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            con = self._open_for_reading(fresh)
        else:
            con = self._retry("open", lambda: duckdb.connect(str(self.path)))
        try:
            configure(con)
            yield con
        except BaseException as e:
            _quietly(con.close)
            self._raise_storage(e)
            raise
        try:
            con.close()
        except duckdb.Error as e:
            self._raise_storage(e)
            raise

    @contextmanager
    def attach(
        self, con: duckdb.DuckDBPyConnection, alias: str = "wh", read_only: bool = False
    ) -> Iterator[str]:
        """Attach the warehouse to an (in-memory) connection for one unit of work; I/O failures
        as in :meth:`connect`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = " (READ_ONLY)" if read_only else ""
        target = str(self.path).replace("'", "''")
        self._retry("attach", lambda: con.execute(f"ATTACH '{target}' AS {alias}{mode}"))
        try:
            yield alias
        except BaseException as e:
            _quietly(lambda: con.execute(f"DETACH {alias}"))  # never masks what raised
            self._raise_storage(e)
            raise
        try:
            con.execute(f"DETACH {alias}")  # checkpoints: a full disk may show here first
        except duckdb.Error as e:
            self._raise_storage(e)
            raise

    def _raise_storage(self, e: BaseException) -> None:
        """Raise one line naming an I/O failure of the warehouse file; return for other errors."""
        if not _is_storage(e, self.path):
            return
        text = " ".join(str(e).split())
        if any(m in text.lower() for m in _DISK_FULL):
            raise WarehouseError(
                f"{self.path}: the disk is full (No space left on device); free some space "
                "and run again (everything committed before is kept)"
            ) from e
        raise WarehouseError(f"{self.path}: {text}") from e

    def migrate(self, force: bool = False) -> bool:
        """Apply ``sql/`` (:mod:`collectors.warehouse.migrate`); True when anything was applied."""
        with self.connect() as con:
            return apply(con, self.path, force)
