"""The warehouse's bookkeeping (``sql/ledger/``): loads, file cursors and job runs.

Every row written here describes other writes: a load is ``running`` while its batches commit
(each batch advances the load's counters and the file's cursor in the batch's own transaction),
then ``ok`` or ``failed``; a job run is ``running`` while its job works, then ``ok``,
``failed``, ``stopped`` or ``skipped``. A row left ``running`` by a process that no longer exists
(a ``kill -9``) is marked ``interrupted`` by :func:`mark_interrupted_loads` or
:func:`mark_interrupted_jobs`; whatever its batches committed stays valid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

DETAIL_CHARS = 500


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def alive(pid: int) -> bool:
    """The process ``pid`` still runs (this process always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- file cursors ---------------------------------------------------------------------------------


@dataclass
class Cursor:
    """How far a log file has been read: bytes and lines loaded, the hash of its first bytes
    (a changed hash means the file was replaced), and its size then."""

    offset: int = 0
    lines: int = 0
    head_hash: str = ""
    size: int = 0


def read_cursor(con: duckdb.DuckDBPyConnection, file: str) -> Cursor:
    row = con.execute(
        "SELECT offset_bytes, lines_read, head_hash, size_bytes FROM file_cursors WHERE file = ?",
        [file],
    ).fetchone()
    return Cursor(int(row[0]), int(row[1]), str(row[2]), int(row[3])) if row else Cursor()


def advance_cursor(
    con: duckdb.DuckDBPyConnection, schema: str, file: str, fmt: str, cur: Cursor
) -> None:
    """Move ``file``'s cursor (in ``schema``, the attached warehouse) in the caller's
    transaction; never backwards, unless the file was replaced."""
    con.execute(
        f"INSERT INTO {schema}.file_cursors VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP) "
        "ON CONFLICT (file) DO UPDATE SET format = excluded.format, head_hash = excluded.head_hash, "
        "offset_bytes = excluded.offset_bytes, lines_read = excluded.lines_read, "
        "size_bytes = excluded.size_bytes, updated_at = excluded.updated_at "
        "WHERE excluded.offset_bytes >= file_cursors.offset_bytes "
        "OR excluded.head_hash <> file_cursors.head_hash",
        [file, fmt, cur.head_hash, cur.offset, cur.lines, cur.size],
    )


# -- loads ----------------------------------------------------------------------------------------


def start_load(
    con: duckdb.DuckDBPyConnection, load_id: str, run_id: str, source: str, file: str
) -> None:
    con.execute(
        "INSERT INTO loads (load_id, run_id, source, file, started_at, status, pid) "
        "VALUES (?, ?, ?, ?, now()::TIMESTAMP, 'running', ?)",
        [load_id, run_id, source, file, os.getpid()],
    )


def count_batch(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    load_id: str,
    *,
    loaded: int,
    duplicates: int,
    quarantined: int,
    skipped: int,
    nbytes: int,
) -> None:
    """Add one committed batch to its load's counters, in the batch's transaction."""
    con.execute(
        f"UPDATE {schema}.loads SET rows_loaded = rows_loaded + ?, duplicates = duplicates + ?, "
        "quarantined = quarantined + ?, skipped = skipped + ?, bytes_read = bytes_read + ? "
        "WHERE load_id = ?",
        [loaded, duplicates, quarantined, skipped, nbytes, load_id],
    )


def end_load(
    con: duckdb.DuckDBPyConnection, load_id: str, status: str, error: str | None = None
) -> None:
    con.execute(
        "UPDATE loads SET status = ?, ended_at = now()::TIMESTAMP, error = ? WHERE load_id = ?",
        [status, error, load_id],
    )


def mark_interrupted_loads(con: duckdb.DuckDBPyConnection) -> int:
    """Mark ``running`` loads of processes that no longer exist as ``interrupted``."""
    n = 0
    for load_id, pid in con.execute(
        "SELECT load_id, pid FROM loads WHERE status = 'running'"
    ).fetchall():
        if pid is None or not alive(int(pid)):
            con.execute(
                "UPDATE loads SET status = 'interrupted', "
                "ended_at = coalesce(ended_at, now()::TIMESTAMP) WHERE load_id = ?",
                [load_id],
            )
            n += 1
    return n


# -- job runs -------------------------------------------------------------------------------------


def start_job(con: duckdb.DuckDBPyConnection, job: str) -> datetime:
    started = now_utc()
    con.execute(
        "INSERT INTO job_runs (job, started_at, status, detail) VALUES (?, ?, 'running', ?)",
        [job, started, f"pid {os.getpid()}"],
    )
    return started


def finish_job(
    con: duckdb.DuckDBPyConnection, job: str, started: datetime, status: str, detail: str
) -> None:
    """``detail`` is stored as given: the caller redacts it."""
    con.execute(
        "UPDATE job_runs SET ended_at = ?, status = ?, detail = ? "
        "WHERE job = ? AND started_at = ? AND status = 'running'",
        [now_utc(), status, detail[:DETAIL_CHARS], job, started],
    )


def record_job(con: duckdb.DuckDBPyConnection, job: str, status: str, detail: str) -> None:
    """A run that did not start (skipped, missed) as one finished row."""
    now = now_utc()
    con.execute(
        "INSERT INTO job_runs VALUES (?, ?, ?, ?, ?)",
        [job, now, now, status, detail[:DETAIL_CHARS]],
    )


def mark_interrupted_jobs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark ``running`` job runs of processes that no longer exist as ``interrupted``."""
    n = 0
    rows = con.execute("SELECT job, started_at, detail FROM job_runs WHERE status = 'running'")
    for job, started, detail in rows.fetchall():
        pid = str(detail or "").removeprefix("pid ")
        if pid.isdigit() and int(pid) != os.getpid() and alive(int(pid)):
            continue
        con.execute(
            "UPDATE job_runs SET status = 'interrupted', ended_at = ?, detail = ? "
            "WHERE job = ? AND started_at = ? AND status = 'running'",
            [now_utc(), f"the process ({detail}) ended during the run", job, started],
        )
        n += 1
    return n


def last_ok_jobs(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Start (UTC) of each job's last successful run."""
    rows = con.execute(
        "SELECT job, max(started_at) FROM job_runs WHERE status = 'ok' GROUP BY job"
    ).fetchall()
    return {str(job): started.replace(tzinfo=UTC) for job, started in rows}
