"""Read every remote source into its spool, each read recorded in ``source_reads``.

Each kind's module provides ``fetch(cfg, source, state, stop) -> Fetched``: it reads what is new
since ``state.cursor`` (the JSON it returned last time), writes it to the source's spool folder
with :func:`collectors.remote.spool.write`, and returns the new cursor. The cursor is recorded
only after the spool file is durable, so a crash in between reads the same records again, and
the ingest anti-join on ``attempt_id`` keeps them from counting twice."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collectors.config import Config, Source
from collectors.errors import RouteLedgerError
from collectors.redact import redact
from collectors.remote import spool
from collectors.warehouse import Warehouse, ledger, transaction

log = logging.getLogger(__name__)
MODULES = {"bucket": "collectors.remote.bucket", "postgres": "collectors.remote.postgres"}


@dataclass
class State:
    """What ``source_reads`` holds for a source before this read."""

    cursor: str | None = None
    newest_at: datetime | None = None


@dataclass
class Fetched:
    cursor: str | None  # the position to start from next time (JSON)
    rows: int = 0  # records spooled by this read
    newest_at: datetime | None = None  # the newest record's time (UTC, naive)
    files: list[str] = field(default_factory=list)  # spool files written


@dataclass
class ReadResult:
    source: str
    kind: str
    status: str  # ok | failed | stopped
    rows: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "status": self.status,
            "rows": self.rows,
            "error": self.error,
        }


def read_state(wh: Warehouse, label: str) -> State:
    with wh.connect() as con:
        row = con.execute(
            "SELECT cursor, newest_at FROM source_reads WHERE source = ?", [label]
        ).fetchone()
    return State(row[0], row[1]) if row else State()


def record(
    wh: Warehouse,
    label: str,
    kind: str,
    fetched: Fetched | None,
    error: str | None,
) -> None:
    """One read's outcome; the cursor and counters move only with an ok read."""
    now = ledger.now_utc()
    with wh.connect() as con, transaction(con):
        con.execute(
            "INSERT INTO source_reads (source, kind) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [label, kind],
        )
        if fetched is not None:
            con.execute(
                "UPDATE source_reads SET last_read_at = ?, last_ok_at = ?, rows_last = ?,"
                " rows_total = rows_total + ?, error = NULL, cursor = ?,"
                " newest_at = greatest(newest_at, ?) WHERE source = ?",
                [now, now, fetched.rows, fetched.rows, fetched.cursor, fetched.newest_at, label],
            )
        else:
            con.execute(
                "UPDATE source_reads SET last_read_at = ?, rows_last = 0,"
                " errors_total = errors_total + 1, error = ? WHERE source = ?",
                [now, (error or "")[: ledger.DETAIL_CHARS], label],
            )


def fetch_all(cfg: Config, stop: threading.Event | None = None) -> list[ReadResult]:
    """Read every remote ``[[sources]]`` entry into its spool; one failing source does not stop
    the others (its error is recorded and returned)."""
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    out: list[ReadResult] = []
    for s in cfg.sources:
        if s.kind == "files":
            continue
        if stop is not None and stop.is_set():
            out.append(ReadResult(s.label, s.kind, "stopped"))
            continue
        out.append(_fetch_one(cfg, wh, s, stop or threading.Event()))
    return out


def _fetch_one(cfg: Config, wh: Warehouse, s: Source, stop: threading.Event) -> ReadResult:
    state = read_state(wh, s.label)
    try:
        module = importlib.import_module(MODULES[s.kind])
        fetched: Fetched = module.fetch(cfg, s, state, stop)
    except (RouteLedgerError, OSError, ValueError) as e:
        error = redact(" ".join(str(e).split()))[:300] or type(e).__name__
        log.warning("source %s: %s", s.label, error)
        record(wh, s.label, s.kind, None, error)
        return ReadResult(s.label, s.kind, "failed", error=error)
    record(wh, s.label, s.kind, fetched, None)
    return ReadResult(s.label, s.kind, "ok", rows=fetched.rows)


KEEP_SECONDS = 86400  # an ingested spool file stays a day (to look at), then it is deleted


def prune(cfg: Config, now: float | None = None) -> int:
    """Delete the remote sources' spool files read to their end more than :data:`KEEP_SECONDS`
    ago, with their cursors: a spool file is written whole once and never grows, so nothing of
    it is left to read. Called by the ingest job after its ingest (it holds the job's lock).
    Returns the files deleted."""
    folders = [spool.folder(cfg, s.label) for s in cfg.sources if s.kind != "files"]
    paths = {str(p.resolve()): p for f in folders for p in spool.files(f)}
    if not paths:
        return 0
    now = time.time() if now is None else now
    with Warehouse.from_config(cfg).connect() as con:
        read = dict(
            con.execute(
                "SELECT file, offset_bytes FROM file_cursors WHERE file IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [list(paths)],
            ).fetchall()
        )
        gone = []
        for key, path in paths.items():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if key in read and int(read[key]) >= st.st_size and now - st.st_mtime > KEEP_SECONDS:
                path.unlink(missing_ok=True)
                gone.append([key])
        if gone:
            con.executemany("DELETE FROM file_cursors WHERE file = ?", gone)
    return len(gone)
