"""The read snapshot: a read-only copy of the warehouse that readers open while a writer holds it.

DuckDB lets one process write a file *or* several read it. A writer that holds the file for long
(a full rebuild of the marts: about two minutes at 10M attempts) would make every reader (the
dashboard, ``stats``, the tuner, the report) wait, and fail after its lock timeout. So after each
refresh of the marts the writer publishes the file as it just committed it: checkpointed, copied
to a temporary name, stamped with the time in ``snapshot_published`` (empty in the warehouse itself), fsynced and renamed over
the previous copy (readers that have the previous copy open keep reading it; POSIX keeps a
replaced file until its last reader closes it).

A reader opens the warehouse itself when it is free (the freshest figures) and the snapshot,
at once, when a writer holds the warehouse. The snapshot holds the marts the warehouse itself
shows until the next refresh commits, so a reader sees the old marts or the new ones, never a
mix and never older ones. A snapshot of another schema version (after an upgrade, before the
first refresh) is never read; the reader then waits as before.

Cost: one more copy of the warehouse on disk, and the copy's time after each refresh (on a
file system with reflinks, such as XFS or Btrfs, the copy is a clone and takes no time).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from collectors.warehouse.migrate import schema_hash

log = logging.getLogger(__name__)

SUFFIX = ".snapshot"
STAMP_TABLE = "snapshot_published"


def path_of(warehouse: Path) -> Path:
    """Where the snapshot of ``warehouse`` lives: beside it, ``<name>.snapshot``."""
    return warehouse.with_name(warehouse.name + SUFFIX)


@functools.cache
def _current_schema() -> str:
    return schema_hash()


def usable(con: duckdb.DuckDBPyConnection) -> bool:
    """The snapshot open on ``con`` was published by this version of the SQL."""
    try:
        row = con.execute(
            "SELECT version FROM schema_version ORDER BY applied_at DESC LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0] == _current_schema())


def publish(con: duckdb.DuckDBPyConnection, warehouse: Path) -> Path | None:
    """Publish the committed state of ``warehouse`` as its snapshot. ``con`` is the writer's open
    connection, outside any transaction (so nothing else writes during the copy). Returns the
    snapshot's path, or None when it could not be written: a failure (a full disk) is logged,
    and the previous snapshot removed so no reader is shown figures older than the
    warehouse's; the warehouse itself is untouched."""
    target = path_of(warehouse)
    tmp = target.with_name(target.name + ".tmp")
    try:
        con.execute("CHECKPOINT")
        _copy(warehouse, tmp)
        stamp = duckdb.connect(str(tmp))
        try:
            stamp.execute(f"DELETE FROM {STAMP_TABLE}")
            stamp.execute(
                f"INSERT INTO {STAMP_TABLE} VALUES (?)", [datetime.now(UTC).replace(tzinfo=None)]
            )
        finally:
            stamp.close()
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    except (OSError, duckdb.Error) as e:
        log.warning("the read snapshot of %s was not published: %s", warehouse, e)
        remove(warehouse)
        return None
    return target


def remove(warehouse: Path) -> None:
    """Remove the snapshot (and a half-written copy): readers then wait for the warehouse."""
    target = path_of(warehouse)
    for p in (target, Path(f"{target}.wal"), target.with_name(target.name + ".tmp")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("%s could not be removed: %s", p, e)


def _copy(src: Path, dst: Path) -> None:
    """A kernel-side copy (``copy_file_range``, which clones on file systems with reflinks);
    ``shutil.copyfile`` where the kernel cannot."""
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            left = os.fstat(fin.fileno()).st_size
            while left > 0:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), min(left, 1 << 30))
                if n == 0:
                    break
                left -= n
            if left == 0:
                return
    except OSError as e:
        if isinstance(e, FileNotFoundError) or e.errno == errno.ENOSPC:  # no fallback helps
            raise
    shutil.copyfile(src, dst)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
