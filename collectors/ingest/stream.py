"""The first read of a big JSONL log as one DuckDB stream, cut into batches of whole lines.

A span-by-span read (:meth:`collectors.ingest.plan.Planner.spans`) copies each batch of the log
to a stage file, because DuckDB's ``read_json`` reads whole files. For a log read from its
first byte that costs a second write of every byte, most of a core on a machine whose page
cache is full. So a log read from the start goes through one ``read_json`` of the file itself,
with the format's ``select`` and the casts to candidate columns fused into the scan, run on
every core and fetched as Arrow in file order (DuckDB keeps insertion order). Two threads feed
the ingest engine:

* :class:`ChunkPlanner` counts the log's lines with numpy, ahead of the stream but never more
  than a few batches ahead (so it warms the page cache rather than evicting it), and cuts them
  into batches: at most ``max_rows`` lines and ``max_bytes`` bytes, whole lines only. It stops
  at the first line that does not start with ``{`` (blank, whitespace, not an object, a BOM)
  or is longer than the line limit: DuckDB would skip or refuse it, and the stream's rows
  would no longer be the file's lines one for one.
* :class:`RowStream` takes exactly each batch's line count of rows off the stream and hands
  the batch on as an Arrow table of candidate rows.

The stream ends early when DuckDB refuses a line, when the planner stopped, or when there are
fewer rows than lines; every batch handed on before that holds exactly its lines, and
:attr:`RowStream.resume_offset` says where the span-by-span read takes over (and finds the bad
line with its careful path). Rows are never numbered by the stream: the engine numbers them
from the line counts, as it does for spans.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from collectors.ingest.candidates import NONFINITE_COLUMN, candidate_sql, nonfinite_sql
from collectors.logs.base import SqlFormat

log = logging.getLogger(__name__)
BLOCK_BYTES = 8 << 20
OPEN_BRACE = ord("{")
NEWLINE = ord("\n")
AHEAD = 2  # batches the planner may count before the stream takes them
FETCH_ROWS = 1 << 16


@dataclass
class Chunk:
    """Lines ``[start, end)`` of the log: ``lines`` of them, and (from the stream) their rows."""

    start: int
    end: int
    lines: int
    table: pa.Table | None = None


class _Stop:
    """The end of a queue: ``reason`` None when everything planned went through."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put, giving up when ``stop`` is set (the reader went away)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue[Any], stop: threading.Event) -> Any:
    """Get, or a :class:`_Stop` once ``stop`` is set (the writer may have gone)."""
    while not stop.is_set():
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue
    return _Stop("the ingest stopped")


class ChunkPlanner:
    """Cut ``path[0:end)`` into batches of whole lines on a thread (see the module docstring).

    ``end`` must be just past a newline. Items of :attr:`out`: :class:`Chunk` (no table), then a
    :class:`_Stop` whose reason says why the planner stopped before ``end``, if it did."""

    def __init__(
        self,
        path: Path,
        end: int,
        max_rows: int,
        max_bytes: int,
        max_line: int,
        stop: threading.Event,
    ) -> None:
        self.path, self.end = path, end
        self.max_rows, self.max_bytes, self.max_line = max(1, max_rows), max(1, max_bytes), max_line
        self.stop = stop
        self.out: queue.Queue[Chunk | _Stop] = queue.Queue(maxsize=AHEAD)
        self.thread = threading.Thread(target=self._run, name="routeledger-plan", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            reason = self._plan()
        except OSError as e:
            reason = f"reading the log: {e}"
        _put(self.out, _Stop(reason), self.stop)

    def _plan(self) -> str | None:
        chunk_start = 0
        pending: list[np.ndarray] = []  # newline offsets after chunk_start, by block
        n_pending = 0
        last_nl = -1  # offset of the last newline seen
        must_open = True  # the next byte read starts a line
        buf = bytearray(BLOCK_BYTES)
        view = memoryview(buf)
        pos = 0
        stop_reason: str | None = None
        with open(self.path, "rb", buffering=0) as f:
            while pos < self.end and stop_reason is None:
                got = f.readinto(view[: min(len(buf), self.end - pos)])
                if not got:
                    return f"the log ended at byte {pos:,}, before byte {self.end:,}"
                arr = np.frombuffer(buf, np.uint8, count=got)
                nl = np.flatnonzero(arr == NEWLINE)
                starts = nl + 1  # where the next lines start, within this block
                starts = starts[starts < got]
                if must_open:
                    starts = np.concatenate(([0], starts))
                bad = starts[arr[starts] != OPEN_BRACE]
                limit = got  # this block's bytes that are usable
                if bad.size:
                    limit = int(bad[0])
                    stop_reason = f"line at byte {pos + limit:,} does not start with '{{'"
                ends = nl[nl < limit] + pos  # absolute offsets of newlines before the limit
                if ends.size:
                    lengths = np.diff(np.concatenate(([last_nl], ends))) - 1
                    over = np.flatnonzero(lengths > self.max_line)
                    if over.size:
                        k = int(over[0])
                        stop_reason = f"line of {int(lengths[k]):,} bytes, over the line limit"
                        ends = ends[:k]
                if ends.size:
                    last_nl = int(ends[-1])
                    pending.append(ends)
                    n_pending += int(ends.size)
                must_open = bool(nl.size) and int(nl[-1]) == got - 1
                pos += got
                at_end = pos >= self.end or stop_reason is not None
                chunk_start, pending, n_pending = self._emit(
                    chunk_start, pending, n_pending, at_end, pos
                )
                if chunk_start < 0:
                    return "the ingest stopped"
        return stop_reason

    def _emit(
        self, start: int, pending: list[np.ndarray], n: int, at_end: bool, pos: int
    ) -> tuple[int, list[np.ndarray], int]:
        """Hand on every batch the newlines in ``pending`` complete; (-1, ...) when told to stop."""
        if not pending:
            return start, pending, n
        ends = np.concatenate(pending) if len(pending) > 1 else pending[0]
        while ends.size:
            # the last line ending within max_bytes of the start (at least one line)
            k = int(np.searchsorted(ends, start + self.max_bytes - 1, side="right")) - 1
            full_by_bytes = k < ends.size - 1 or pos >= start + self.max_bytes
            k = max(k, 0)
            if ends.size >= self.max_rows:
                k = min(k, self.max_rows - 1)
            elif not (full_by_bytes or at_end):
                break  # the batch is not complete yet: wait for more lines
            end = int(ends[k]) + 1
            if not _put(self.out, Chunk(start, end, k + 1), self.stop):
                return -1, [], 0
            start, ends = end, ends[k + 1 :]
        return start, ([ends] if ends.size else []), int(ends.size)


def stream_sql(con: duckdb.DuckDBPyConnection, fmt: SqlFormat, read_json: str) -> str:
    """The fused scan: ``read_json`` -> the format's ``select`` -> text candidate columns.
    ``read_json`` is :func:`collectors.ingest.read_jsonl.stream_read_sql`; the view it makes on ``con`` is
    what :meth:`SqlFormat.select` reads as ``src`` (``source_line`` NULL: numbered later)."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW src AS SELECT NULL::BIGINT AS source_line, * FROM ({read_json})"
    )
    cols = candidate_sql(con, fmt)
    return f"SELECT *, {nonfinite_sql()} AS {NONFINITE_COLUMN} FROM (SELECT {cols} FROM fmt_out)"


class RowStream:
    """Batches of candidate rows of ``path[0:end)`` off one DuckDB scan (module docstring).

    Iterate for :class:`Chunk` objects with tables, in file order; then
    :attr:`resume_offset` (the end of the last batch handed on) and :attr:`reason` (why it
    stopped before ``end``, or None). :meth:`close` stops both threads, also mid-stream."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        fmt: SqlFormat,
        path: Path,
        end: int,
        read_json: str,
        max_rows: int,
        max_bytes: int,
        max_line: int,
    ) -> None:
        self.con, self.path, self.end = con, path, end
        self.stop = threading.Event()
        self.resume_offset = 0
        self.reason: str | None = None
        self.query = stream_sql(con, fmt, read_json)
        self.planner = ChunkPlanner(path, end, max_rows, max_bytes, max_line, self.stop)
        self.out: queue.Queue[Chunk | _Stop] = queue.Queue(maxsize=1)
        self.thread = threading.Thread(target=self._run, name="routeledger-stream", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        reason: str | None = None
        try:
            reason = self._pump()
        except duckdb.Error as e:
            reason = f"DuckDB stopped reading: {str(e).splitlines()[0][:200]}"
        except BaseException as e:  # noqa: BLE001  (reported by the iterator, never lost)
            reason = f"{type(e).__name__}: {e}"
        _put(self.out, _Stop(reason), self.stop)

    def _pump(self) -> str | None:
        reader = self.con.sql(self.query).to_arrow_reader(FETCH_ROWS)
        try:
            held: list[pa.RecordBatch] = []
            n_held = 0
            while not self.stop.is_set():
                item = _get(self.planner.out, self.stop)
                if isinstance(item, _Stop):
                    return item.reason
                while n_held < item.lines:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        return f"the scan gave {n_held:,} rows for {item.lines:,} lines"
                    held.append(batch)
                    n_held += batch.num_rows
                table = pa.Table.from_batches(held) if held else None
                assert table is not None
                item.table = table.slice(0, item.lines).combine_chunks()
                rest = table.slice(item.lines)
                held = rest.to_batches() if rest.num_rows else []
                n_held = rest.num_rows
                if not _put(self.out, item, self.stop):
                    return "the ingest stopped"
            return "the ingest stopped"
        finally:
            reader.close()

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            item = self.out.get()
            if isinstance(item, _Stop):
                self.reason = item.reason
                if item.reason:
                    log.info(
                        "%s: read span by span from byte %d: %s",
                        self.path,
                        self.resume_offset,
                        item.reason,
                    )
                return
            self.resume_offset = item.end
            yield item

    def close(self) -> None:
        """Stop the threads (mid-stream too) and wait for them."""
        self.stop.set()
        if self.thread.is_alive():
            self.con.interrupt()
        for q in (self.out, self.planner.out):
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
        self.thread.join()
        self.planner.thread.join()
