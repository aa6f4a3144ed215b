"""The OTLP/HTTP receiver's spool (``<home>/spool/otlp-http/``): segments of OTLP/JSON lines,
appended durably before a request is acknowledged, ingested like any log and deleted once read.

* **Segments.** :class:`Segments` appends each accepted request's lines to the open segment and
  fsyncs before :meth:`Segments.append` returns, so an acknowledged request survives a crash.
  Segments are named by their UTC creation time (``20260101T120000123456Z-<pid>-<n>.jsonl``, so
  they sort in the order written) and closed after :data:`ROTATE_SECONDS` or ``rotate_bytes``;
  the open one is held with an exclusive ``flock``, which tells every other process (and
  :func:`prune`) it is still being written. A write that fails is cut off again; a crash in the
  middle of one leaves a torn last line, which :func:`repair` cuts off when the receiver starts
  (those bytes were never acknowledged, and the ingest never reads an unfinished line).
* **Ingest.** The segments are listed by :func:`collectors.remote.spool.to_ingest` and read by
  the exactly-once engine (a byte cursor per file). After each ingest :func:`prune` deletes
  every closed segment whose cursor reached its size (with its cursor row), so what is on disk
  is what is not yet ingested, and records what is pending in ``ingested.json``.
* **Status.** The receiver keeps its counters in ``receiver.json`` (:data:`STATE`); Data health
  reads both files through :func:`status`. Both are written whole (temporary file, rename) and
  are not ``*.jsonl``, so the ingest never reads them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.config import Config
from collectors.remote import spool
from collectors.warehouse import Warehouse

log = logging.getLogger(__name__)
ROTATE_SECONDS = 60.0  # a segment takes new lines this long at most (bounds Data health's lag)
ROTATE_BYTES = 64 << 20
STATE = "receiver.json"  # the receiver's address and counters
INGESTED = "ingested.json"  # what the last ingest left pending
_REPAIR_CHUNK = 1 << 16


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """``doc`` as ``path``, whole: a reader sees the old file or the new one."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    tmp.write_text(json.dumps(doc, default=str, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _fsync_dir(where: Path) -> None:
    fd = os.open(where, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def created_at(path: Path) -> datetime | None:
    """A segment's creation time (UTC) from its name."""
    try:
        return datetime.strptime(path.name.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ")
    except ValueError:
        return None


@dataclass
class _Open:
    path: Path
    fd: int
    size: int
    opened: float  # time.monotonic()


class Segments:
    """The receiver's writer: ``append(lines)`` is durable when it returns (raises OSError)."""

    def __init__(
        self,
        where: Path,
        rotate_bytes: int = ROTATE_BYTES,
        rotate_seconds: float = ROTATE_SECONDS,
    ) -> None:
        self.where = where
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self._lock = threading.Lock()
        self._open: _Open | None = None
        self._seq = 0

    def append(self, lines: list[bytes]) -> int:
        """Append ``lines`` (each a newline-free document) and fsync; the bytes written."""
        data = b"".join(line + b"\n" for line in lines)
        with self._lock:
            seg = self._segment(len(data))
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(seg.fd, view) :]
                os.fsync(seg.fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(seg.fd, seg.size)  # never acknowledged: cut it off again
                self._close()  # the next request starts a clean segment
                raise
            seg.size += len(data)
            return len(data)

    def _segment(self, n: int) -> _Open:
        seg = self._open
        if seg is not None and (
            (seg.size and seg.size + n > self.rotate_bytes)
            or time.monotonic() - seg.opened > self.rotate_seconds
        ):
            self._close()
            seg = None
        if seg is None:
            self.where.mkdir(parents=True, exist_ok=True)
            self._seq += 1
            name = f"{_now():%Y%m%dT%H%M%S%fZ}-{os.getpid()}-{self._seq:06d}{spool.SUFFIX}"
            path = self.where / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # new and unique: never contended
            _fsync_dir(self.where)  # the name is as durable as what is written under it
            seg = self._open = _Open(path, fd, 0, time.monotonic())
        return seg

    def _close(self) -> None:
        if self._open is not None:
            os.close(self._open.fd)  # releases the flock: the segment is closed for good
            self._open = None

    def close(self) -> None:
        with self._lock:
            self._close()


def repair(where: Path) -> int:
    """Cut the torn last line off every segment no process is writing; the bytes cut."""
    cut = 0
    for path in spool.files(where):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            if not _try_lock(fd):
                continue  # another receiver's open segment
            size = os.fstat(fd).st_size
            end = size
            while end > 0:
                start = max(0, end - _REPAIR_CHUNK)
                chunk = os.pread(fd, end - start, start)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    end = start + i + 1
                    break
                end = start
            if end < size:
                os.ftruncate(fd, end)
                os.fsync(fd)
                cut += size - end
                log.warning("%s: cut off %d bytes of an unfinished write", path.name, size - end)
        finally:
            os.close(fd)
    return cut


@dataclass(frozen=True)
class Pruned:
    deleted: int  # segments deleted
    pending_bytes: int  # bytes of segments not ingested yet
    pending_files: int


def prune(cfg: Config) -> Pruned:
    """After an ingest: delete the closed segments read to their end, and record what is left
    in ``ingested.json``. Called by the ingest job (which holds its lock)."""
    where = spool.receiver_folder(cfg)
    paths = spool.files(where)
    if not where.is_dir():
        return Pruned(0, 0, 0)
    keys = {str(p.resolve()): p for p in paths}
    with Warehouse.from_config(cfg).connect() as con:
        rows = con.execute(
            "SELECT file, offset_bytes FROM file_cursors WHERE starts_with(file, ?)",
            [str(where.resolve()) + os.sep],
        ).fetchall()
        read = {str(f): int(o) for f, o in rows}
        deleted: list[str] = []
        pending, pending_files, oldest = 0, 0, None
        for key, path in keys.items():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            done = read.get(key, 0)
            if size and done >= size and _delete_if_closed(path):
                deleted.append(key)
                continue
            if size > done:
                pending += size - done
                pending_files += 1
                born = created_at(path)
                oldest = born if oldest is None or (born and born < oldest) else oldest
        if deleted:
            con.executemany("DELETE FROM file_cursors WHERE file = ?", [[k] for k in deleted])
    write_json(
        where / INGESTED,
        {
            "at": _now().isoformat(),
            "pending_bytes": pending,
            "pending_files": pending_files,
            "oldest_pending_at": oldest.isoformat() if oldest else None,
            "deleted_total": int(read_json(where / INGESTED).get("deleted_total", 0) or 0)
            + len(deleted),
        },
    )
    return Pruned(len(deleted), pending, pending_files)


def _delete_if_closed(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if not _try_lock(fd):
            return False  # the receiver is still appending to it
        path.unlink()
        return True
    finally:
        os.close(fd)


def status(cfg: Config) -> dict[str, Any] | None:
    """The receiver as Data health shows it; None when it never ran in this home."""
    where = spool.receiver_folder(cfg)
    state = read_json(where / STATE)
    if not state and not cfg.get("receiver.otlp_http"):
        return None
    ingested = read_json(where / INGESTED)
    pid = state.get("pid")
    running = bool(state) and not state.get("stopped_at") and _alive(pid)
    received = _time(state.get("last_received_at"))
    ingest_at = _time(ingested.get("at"))
    oldest = _time(ingested.get("oldest_pending_at"))
    # the oldest span not yet ingested arrived no earlier than this: the oldest segment the
    # last ingest left unread, else that ingest when something arrived after it
    since = oldest
    if ingest_at is None:
        on_disk = [p for p in spool.files(where) if _size(p)]
        since = created_at(on_disk[0]) if on_disk else None
    elif since is None and received and received > ingest_at:
        since = ingest_at
    return {
        "configured": str(cfg.get("receiver.otlp_http")),
        "listening": state.get("listening") if running else None,
        "running": running,
        "started_at": _time(state.get("started_at")),
        "requests": int(state.get("requests", 0) or 0),
        "spans": int(state.get("spans", 0) or 0),
        "rejected": dict(state.get("rejected") or {}),
        "last_received_at": received,
        "backlog_bytes": spool.size_bytes(where),
        "last_ingest_at": ingest_at,
        "pending_since": since,
        "lag_seconds": (_now() - since).total_seconds() if since else 0.0,
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _time(v: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
