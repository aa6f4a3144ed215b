"""The write side of ingest on ClickHouse: one parsed batch committed, and the small ledger
(cursors, loads) the engine reads and writes around it.

ClickHouse has no multi-statement transaction, so :func:`commit_batch` orders its writes and
makes each repeatable instead of running them together:

1. the batch's attempts (``to_insert``) as one typed Arrow insert into ``raw_attempts``, and its
   quarantined rows (``bad``) into ``raw_quarantine``, each with an ``insert_deduplication_token``
   (:func:`batch_token`) the tables keep a window of (``non_replicated_deduplication_window``);
2. then the file's cursor: a newer row of ``file_cursors`` (a ReplacingMergeTree by file, read
   with ``FINAL``);
3. then the load's counters: a newer row of ``loads``.

A run killed between 1 and 2 leaves rows without a cursor; the next run plans the same span,
parses it to the same rows and sends them with the same tokens, and the engine drops those
blocks: nothing is counted twice. A run killed between 2 and 3 leaves the rows and the cursor
right and the load's counters short by that batch (the load is then marked ``interrupted``).

Duplicates: ``to_insert`` holds no attempt id twice (the normaliser keeps the first line), and
``duplicates`` counts those repeats. An attempt id landed before from another file (or another
span) is not looked up here: it is inserted and counted in ``rows_loaded``, and the staging view
keeps the first landed (``raw_attempts``'s ReplacingMergeTree also collapses one with the same
start on merge), so the marts count it once.

The DuckDB connection ``con`` is the batch's in-memory one (its tables as
``collectors.ingest.batch.normalize_batch`` leaves them); this module takes it and plain values,
never ingest types (``collectors.warehouse`` does not import ``collectors.ingest``).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import duckdb

from collectors.errors import WarehouseError
from collectors.warehouse.clickhouse import client as ch_client
from collectors.warehouse.ledger import Cursor, alive, now_utc

TOKEN_VERSION = "1"  # bump when what a token covers changes


def batch_token(
    file_key: str,
    start: int,
    end: int,
    normaliser_version: str,
    table: str,
    head_hash: str = "",
) -> str:
    """The identity of one batch's rows in one table: the file, its byte span, the normaliser
    that produced the rows (another version may produce other rows from the same span), the
    table, and the hash of the file's first bytes (a rotated file read again from 0 is other
    content under the same name and span). sha256, hex."""
    doc = "\x1f".join(
        [TOKEN_VERSION, file_key, str(int(start)), str(int(end)), normaliser_version, table,
         head_hash]
    )  # fmt: skip
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()


def commit_batch(
    client: Any,
    con: duckdb.DuckDBPyConnection,
    *,
    load_id: str,
    source: str,
    file_key: str,
    start: int,
    end: int,
    lines: int,
    head_hash: str,
    size: int,
    nbytes: int,
    normaliser_version: str = "",
    total_ok: int | None = None,
    skipped: int = 0,
) -> dict[str, int]:
    """Commit the batch on ``con`` (tables ``to_insert`` and ``bad``) in the order of the module;
    ``end``/``lines``/``head_hash``/``size`` are the cursor after it, ``nbytes`` its bytes,
    ``total_ok`` the rows normalised before the batch's own repeats were dropped (default:
    none dropped). The counters added to the load."""
    now = now_utc()
    attempts = con.sql(
        "SELECT *, ?::VARCHAR AS load_id, ?::TIMESTAMP AS ingested_at FROM to_insert",
        params=[load_id, now],
    ).to_arrow_table()
    bad = con.sql(
        "SELECT ?::VARCHAR AS load_id, ?::VARCHAR AS source, ?::VARCHAR AS source_file, "
        "source_line, reason, detail, raw_excerpt, ?::TIMESTAMP AS quarantined_at FROM bad",
        params=[load_id, source, file_key, now],
    ).to_arrow_table()
    for table, rows in (("raw_attempts", attempts), ("raw_quarantine", bad)):
        if rows.num_rows:
            token = batch_token(file_key, start, end, normaliser_version, table, head_hash)
            ch_client.insert_arrow(
                client, table, rows, insert_deduplicate=1, insert_deduplication_token=token
            )
    advance_cursor(client, file_key, source, Cursor(end, lines, head_hash, size))
    loaded = attempts.num_rows
    counts = {
        "rows_loaded": loaded,
        "duplicates": (loaded if total_ok is None else int(total_ok)) - loaded,
        "quarantined": bad.num_rows,
        "skipped": int(skipped),
        "bytes_read": int(nbytes),
    }
    count_batch(client, load_id, counts)
    return counts


# State rows (cursors, loads) are written with insert_deduplicate=0: a row equal to an older one
# (A, B, then A again) must still land after B; the deduplication window would drop it.

# -- file cursors ---------------------------------------------------------------------------------

_CURSOR_SQL = (
    "SELECT offset_bytes, lines_read, head_hash, size_bytes FROM file_cursors FINAL "
    "WHERE file = {file:String}"
)


def read_cursor(client: Any, file: str) -> Cursor:
    rows = ch_client.rows(client, _CURSOR_SQL, file=file)
    if not rows:
        return Cursor()
    offset, lines, digest, size = rows[0]
    return Cursor(int(offset), int(lines), str(digest), int(size))


def advance_cursor(client: Any, file: str, fmt: str, cur: Cursor) -> None:
    """A newer cursor row for ``file``; never backwards, unless the file was replaced (another
    head hash), as on DuckDB."""
    rows = ch_client.rows(client, _CURSOR_SQL, file=file)
    if rows and cur.offset < int(rows[0][0]) and cur.head_hash == str(rows[0][2]):
        return
    row = {
        "file": file,
        "format": fmt,
        "head_hash": cur.head_hash,
        "offset_bytes": cur.offset,
        "lines_read": cur.lines,
        "size_bytes": cur.size,
        "updated_at": now_utc(),
    }
    ch_client.insert_row(client, "file_cursors", row, insert_deduplicate=0)


# -- loads ----------------------------------------------------------------------------------------

_LOAD_COLUMNS = (
    "load_id, run_id, source, file, started_at, ended_at, status, rows_loaded, duplicates, "
    "quarantined, bytes_read, skipped, pid, error"
)


def read_load(client: Any, load_id: str) -> dict[str, Any] | None:
    """The load's latest row."""
    rows = ch_client.rows(
        client, f"SELECT {_LOAD_COLUMNS} FROM loads FINAL WHERE load_id = {{id:String}}", id=load_id
    )
    names = [c.strip() for c in _LOAD_COLUMNS.split(",")]
    return dict(zip(names, rows[0], strict=True)) if rows else None


def start_load(client: Any, load_id: str, run_id: str, source: str, file: str) -> None:
    row = {
        "load_id": load_id,
        "run_id": run_id,
        "source": source,
        "file": file,
        "started_at": now_utc(),
        "status": "running",
        "pid": os.getpid(),
    }
    ch_client.insert_row(client, "loads", row, insert_deduplicate=0)


def _update_load(client: Any, load_id: str, **changes: Any) -> None:
    row = read_load(client, load_id)
    if row is None:
        raise WarehouseError(f"load {load_id} is not in loads")
    row.update(changes)
    ch_client.insert_row(client, "loads", row, insert_deduplicate=0)


def count_batch(client: Any, load_id: str, counts: dict[str, int]) -> None:
    """Add one committed batch to its load's counters (a newer row of ``loads``; the engine
    commits one file's batches from one thread, so read-then-write does not race)."""
    row = read_load(client, load_id)
    if row is None:
        raise WarehouseError(f"load {load_id} is not in loads")
    row.update({k: int(row[k]) + int(v) for k, v in counts.items()})
    ch_client.insert_row(client, "loads", row, insert_deduplicate=0)


def end_load(client: Any, load_id: str, status: str, error: str | None = None) -> None:
    _update_load(client, load_id, status=status, ended_at=now_utc(), error=error)


def mark_interrupted_loads(client: Any) -> int:
    """Mark ``running`` loads of processes that no longer exist as ``interrupted``."""
    n = 0
    running = ch_client.rows(
        client, "SELECT load_id, pid FROM loads FINAL WHERE status = 'running'"
    )
    for load_id, pid in running:
        if pid is None or not alive(int(pid)):
            row = read_load(client, str(load_id))
            if row is not None:
                row.update(status="interrupted", ended_at=row["ended_at"] or now_utc())
                ch_client.insert_row(client, "loads", row, insert_deduplicate=0)
                n += 1
    return n
