"""Ingest: log files into ``raw_attempts``, exactly once.

For each file: read its cursor (bytes and lines already loaded), plan batches of whole lines from
there (``ingest.batch_bytes``; an incomplete last line waits for the next run), parse each batch
on an in-memory DuckDB with no lock held (:mod:`collectors.parse`), then attach the warehouse for
one short transaction that inserts the new attempts (anti-joined on ``attempt_id``), the
quarantined rows, the advanced cursor and the load's counters together. A run killed at any point
leaves whole batches and a cursor that agrees with them; the next run carries on from there.
A file whose first bytes changed, or that shrank, was rotated: it is read again from the start,
and the anti-join keeps the attempts it already had from counting twice.

JSON documents (a pretty-printed record or an array) cannot grow by appending; they are read
whole, again only when their size or first bytes changed.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import uuid
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors import logs
from collectors.config import Config
from collectors.errors import InputError, RouteLedgerError
from collectors.logs.base import LogFormat, SqlFormat
from collectors.logs.normalize import normalize
from collectors.parse import (
    BatchResult,
    copy_range,
    count_lines,
    excerpt,
    family_name,
    load_candidates,
    mem_connection,
    parse_bytes,  # noqa: F401  (re-exported: the pure parse lives beside the engine)
    release_candidates,
    run_format,
    sniff_container,
    source_name,
    stream_read_sql,
    temp_dir,
)
from collectors.stream import RowStream
from collectors.warehouse import Warehouse, ledger, transaction
from collectors.warehouse.ledger import Cursor as _Cursor

log = logging.getLogger(__name__)
HEAD_BYTES = 4096
LOG_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".log", ".txt"}
SNIFF_BYTES = 65536
BATCH_ROWS = 100_000  # most lines in one batch (one commit): bounds lock time and memory
MEMORY_BUDGET_MB = 1280  # shared by the parse connections (the ingest target: < 2 GB in all)
SPLIT_MIN_BYTES = 8 << 20  # spans left over are split among the workers down to this size
STREAM_MEMORY_MB = 384  # of that, the DuckDB scan of a log read as one stream


@dataclass
class IngestSummary:
    files: int = 0
    attempts_loaded: int = 0
    duplicates_skipped: int = 0
    quarantined: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    logical_requests: int = 0
    skipped: int = 0
    first_started_at: datetime | None = None
    last_started_at: datetime | None = None
    waiting_bytes: int = 0  # an incomplete last line left for the next run
    failed_files: list[dict[str, str]] = field(default_factory=list)
    load_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "attempts_loaded": self.attempts_loaded,
            "duplicates_skipped": self.duplicates_skipped,
            "quarantined": self.quarantined,
            "quarantined_by_reason": dict(sorted(self.quarantined_by_reason.items())),
            "logical_requests": self.logical_requests,
            "skipped_non_llm": self.skipped,
            "waiting_bytes": self.waiting_bytes,
            "first_started_at": _iso(self.first_started_at),
            "last_started_at": _iso(self.last_started_at),
            "failed_files": self.failed_files,
        }


def _iso(t: datetime | None) -> str | None:
    return t.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if t else None


def expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        matches = sorted(glob.glob(os.path.expanduser(p), recursive=True))
        if not matches and not any(ch in p for ch in "*?["):
            raise InputError(f"{p}: no such file")
        for m in matches:
            mp = Path(m)
            if mp.is_dir():
                out.extend(
                    sorted(
                        q for q in mp.rglob("*") if q.is_file() and q.suffix.lower() in LOG_SUFFIXES
                    )
                )
            elif mp.is_file():
                out.append(mp)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]  # type: ignore[func-returns-value]


def _head_hash(f: Any, length: int) -> str:
    f.seek(0)
    return hashlib.sha256(f.read(min(length, HEAD_BYTES))).hexdigest()[:32]


@dataclass
class _Batch:
    start: int  # byte offset of the first line
    end: int  # byte offset just past the last line
    data: bytes | None  # the whole lines; None: a JSONL span the worker copies and counts itself
    n_lines: int | None  # None: counted by the worker
    early: list[tuple[int, str, str, str]]  # (line within the batch, reason, detail, excerpt)
    # the batch's candidate rows, off the stream (then data is None and n_lines is set)
    table: Any = None
    # line numbers: the first line's, set by the batch before; the next batch's, set by this one
    first: Future[int] = field(default_factory=Future)
    after: Future[int] = field(default_factory=Future)


@dataclass
class _FileJob:
    path: Path
    key: str
    fmt: LogFormat
    container: str
    header: bytes | None
    size: int
    stage: bool  # DuckDB reads the batch from a file: the log itself or a stage copy
    load_id: str


@dataclass
class _Slot:
    con: Any  # an in-memory DuckDB connection, used by one batch at a time
    dir: Path


@dataclass
class _Parsed:
    n_lines: int
    total_ok: int
    lo: datetime | None
    hi: datetime | None
    skipped: int
    reasons: dict[str, int]


class Ingester:
    def __init__(
        self, cfg: Config, progress: Callable[[str, int, int], None] | None = None
    ) -> None:
        self.cfg = cfg
        self.wh = Warehouse.from_config(cfg)
        self.batch_bytes = int(cfg.get("ingest.batch_bytes"))
        self.max_line = int(cfg.get("ingest.max_line_bytes"))
        workers = int(cfg.get("ingest.workers"))
        self.workers = workers if workers > 0 else max(1, min(os.cpu_count() or 1, 8))
        self.progress = progress
        self.run_id = uuid.uuid4().hex[:12]

    # -- public ---------------------------------------------------------------------------
    def run(self, files: list[tuple[Path, str, str | None]]) -> IngestSummary:
        """``files``: (path, format name or 'auto', mapping file)."""
        self.wh.migrate()
        self._mark_interrupted()
        summary = IngestSummary()
        for path, fmt_name, mapping in files:
            summary.files += 1
            try:
                self._ingest_file(path, fmt_name, mapping, summary)
            except RouteLedgerError as e:
                log.info("%s: %s", path, e)
                summary.failed_files.append({"file": str(path), "error": str(e)})
        self._finish(summary)
        return summary

    # -- per file -------------------------------------------------------------------------
    def _resolve_format(
        self, path: Path, fmt_name: str, mapping: str | None, head: bytes
    ) -> LogFormat:
        if fmt_name == "auto":
            fmt_name = "mapped" if mapping else logs.detect_name(path, head)
        return logs.get(fmt_name, self.cfg.resolve(mapping) if mapping else None)

    def _ingest_file(
        self, path: Path, fmt_name: str, mapping: str | None, summary: IngestSummary
    ) -> None:
        key = str(path.resolve())
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
            size = os.fstat(f.fileno()).st_size
            if not head.strip():
                return  # an empty file: nothing to do, nothing to complain about
            fmt = self._resolve_format(path, fmt_name, mapping, head)
            container = sniff_container(fmt, head)
            cur = self._read_cursor(key)
            if cur.offset and (size < cur.offset or _head_hash(f, cur.offset) != cur.head_hash):
                log.info("%s was truncated or replaced; reading it again from the start", path)
                cur = _Cursor()
            if container == "json" and cur.offset == size:
                return
            if container != "json" and cur.offset >= size:
                return
            load_id = self._start_load(key, source_name(fmt))
            summary.load_ids.append(load_id)
            header = None
            if container == "csv" and cur.offset > 0:
                f.seek(0)
                header = f.readline()
            stage = container == "jsonl" and isinstance(fmt, SqlFormat)
            job = _FileJob(path, key, fmt, container, header, size, stage, load_id)
            try:
                with temp_dir() as d, open(path, "rb") as hf:
                    tmp = Path(d)
                    if stage and self._stream_fits(f, fmt, cur, size):
                        batches = self._streamed(job, f, size, summary, tmp)
                    elif stage:
                        batches = self._spans(f, cur, size, summary)
                    else:
                        batches = self._batches(f, container, cur, size, summary)
                    try:
                        cur = self._parse_and_commit(job, batches, tmp, hf, cur, summary)
                    finally:
                        batches.close()  # a stream stops its threads
            except RouteLedgerError as e:
                self._end_load(load_id, "failed", str(e)[:500])  # its committed batches stay
                raise
            self._end_load(load_id, "ok")

    def _parse_and_commit(
        self,
        job: _FileJob,
        batches: Iterator[_Batch],
        tmpdir: Path,
        hf: Any,
        cur: _Cursor,
        summary: IngestSummary,
    ) -> _Cursor:
        """Parse batches on ``workers`` threads, each on its own in-memory DuckDB (DuckDB
        releases the GIL, so they use every core), and commit them strictly in file order, so
        the cursor only ever moves over whole committed batches. A slot (connection and stage
        file) is busy from its parse until its commit; there is one slot more than workers, so
        both workers keep parsing while the main thread commits."""
        n_slots = self.workers + 1
        per_slot_threads = max(1, (os.cpu_count() or 1) // self.workers)
        free: list[_Slot] = []
        slots: list[_Slot] = []
        pending: deque[tuple[_Batch, _Slot, Future[_Parsed]]] = deque()
        try:
            for i in range(n_slots):
                sdir = tmpdir / f"slot{i}"
                sdir.mkdir()
                con = mem_connection(
                    threads=per_slot_threads,
                    temp_directory=sdir / "spill",
                    memory_mb=max(256, (MEMORY_BUDGET_MB - STREAM_MEMORY_MB) // n_slots),
                )
                slots.append(_Slot(con, sdir))
            free = list(reversed(slots))
            line_after: Future[int] = Future()
            line_after.set_result(cur.lines + 1)
            with ThreadPoolExecutor(self.workers, thread_name_prefix="routeledger-parse") as ex:
                try:
                    for batch in batches:
                        if not free:
                            cur = self._commit_next(job, pending, free, hf, cur, summary)
                        slot = free.pop()
                        batch.first, line_after = line_after, batch.after
                        pending.append((batch, slot, ex.submit(self._parse, job, slot, batch)))
                        while pending and pending[0][2].done():
                            cur = self._commit_next(job, pending, free, hf, cur, summary)
                    while pending:
                        cur = self._commit_next(job, pending, free, hf, cur, summary)
                except BaseException:
                    for _, _, fut in pending:
                        fut.cancel()
                    raise
        finally:
            for slot in slots:  # the executor has joined: no worker still uses a connection
                slot.con.close()
        return cur

    def _parse(self, job: _FileJob, slot: _Slot, batch: _Batch) -> _Parsed:
        """Worker thread: one batch -> ``to_insert`` and ``bad`` on the slot's connection."""
        try:
            staged, n_lines, blank, longest = self._stage(job, slot, batch)
            first_line = batch.first.result()  # the batch before has counted its lines
            batch.after.set_result(first_line + n_lines)
        except BaseException as e:
            if not batch.after.done():
                batch.after.set_exception(e)  # the batch after must not wait for ever
            raise
        con = slot.con
        table, batch.table = batch.table, None  # held no longer than needed
        read_careful = table is not None and not load_candidates(con, table, first_line)
        if table is not None and not read_careful:
            res = BatchResult()
        else:
            if read_careful:  # a value only the careful path places: read the span
                staged, n_lines, blank, longest = self._stage(job, slot, batch, copy=True)
            res = run_format(
                con,
                job.fmt,
                job.container,
                batch.data,
                first_line,
                slot.dir,
                self.max_line,
                job.header if batch.start > 0 else None,
                staged,
                (n_lines, blank, longest),
            )
        res.quarantine.extend((first_line + i, r, d, x) for i, r, d, x in batch.early)
        normalize(con, source_name(job.fmt), family_name(job.fmt), job.key)
        if table is not None and not read_careful:
            release_candidates(con)
        total_ok, distinct = con.execute(
            "SELECT count(*), count(DISTINCT attempt_id) FROM norm_ok"
        ).fetchone()
        con.execute("DROP TABLE IF EXISTS to_insert")
        if total_ok == distinct:  # no id twice in the batch: the rows as they are
            con.execute("ALTER TABLE norm_ok RENAME TO to_insert")
        else:
            con.execute(
                "CREATE TEMP TABLE to_insert AS SELECT * FROM norm_ok "
                "QUALIFY row_number() OVER (PARTITION BY attempt_id ORDER BY source_line) = 1"
            )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bad AS SELECT source_line, reason, detail, raw_excerpt FROM norm_bad"
        )
        if res.quarantine:
            con.executemany(
                "INSERT INTO bad VALUES (?, ?, ?, ?)", [list(q) for q in res.quarantine]
            )
        lo, hi = con.execute("SELECT min(started_at), max(started_at) FROM to_insert").fetchone()
        skipped = con.execute(
            "SELECT count(*) FROM norm_typed WHERE reject_reason = 'skip'"
        ).fetchone()[0]
        reasons = dict(con.execute("SELECT reason, count(*) FROM bad GROUP BY reason").fetchall())
        return _Parsed(n_lines, int(total_ok), lo, hi, int(skipped), reasons)

    @staticmethod
    def _stage(
        job: _FileJob, slot: _Slot, batch: _Batch, copy: bool = False
    ) -> tuple[Path | None, int, bool, int]:
        """The file DuckDB reads for this batch, its line count, whether a line is empty, and
        its longest line (a batch off the stream: none, and its planned count, unless ``copy``).
        A span is copied in the kernel (``copy_file_range``) and counted with numpy, both
        without the GIL; the whole file from its start needs no copy."""
        if batch.table is not None and not copy:
            assert batch.n_lines is not None
            return None, batch.n_lines, False, 0
        if batch.data is not None:
            data = batch.data
            assert batch.n_lines is not None
            return None, batch.n_lines, b"\n\n" in data or data.startswith(b"\n"), 0
        if batch.start == 0 and batch.end == job.size:
            staged = job.path
        else:
            staged = slot.dir / "stage.jsonl"
            copy_range(job.path, staged, batch.start, batch.end - batch.start)
        return (staged, *count_lines(staged, batch.end - batch.start))

    def _commit_next(
        self,
        job: _FileJob,
        pending: deque[tuple[_Batch, _Slot, Future[_Parsed]]],
        free: list[_Slot],
        hf: Any,
        cur: _Cursor,
        summary: IngestSummary,
    ) -> _Cursor:
        batch, slot, fut = pending.popleft()
        parsed = fut.result()
        lines = cur.lines + parsed.n_lines
        head_hash = _head_hash(hf, batch.end)
        self._commit(
            slot.con, job, parsed, batch.end, lines, head_hash, batch.end - batch.start, summary
        )
        free.append(slot)
        if self.progress:
            self.progress(str(job.path), batch.end, job.size)
        return _Cursor(batch.end, lines, head_hash, job.size)

    def _stream_fits(self, f: Any, fmt: LogFormat, cur: _Cursor, size: int) -> bool:
        """Read as one stream (:mod:`collectors.stream`): a JSONL log of a format whose select
        gives a row per record, read from its first byte, ending in a whole line, and more
        than one batch long (one batch reads the log itself, with no copy, anyway)."""
        if cur.offset or not getattr(fmt, "row_per_record", False):
            return False
        f.seek(size - 1)
        return f.read(1) == b"\n" and size > self._span_bytes(f, 0)

    def _streamed(
        self, job: _FileJob, f: Any, size: int, summary: IngestSummary, tmp: Path
    ) -> Generator[_Batch, None, None]:
        """The log from its start as batches off one DuckDB scan; where the stream stops short
        (a line it cannot take one for one), span by span from the end of its last batch."""
        assert isinstance(job.fmt, SqlFormat)
        con = mem_connection(
            threads=os.cpu_count() or 1, temp_directory=tmp / "stream", memory_mb=STREAM_MEMORY_MB
        )
        try:
            stream = RowStream(
                con, job.fmt, job.path, size, stream_read_sql(job.fmt, job.path, self.max_line),
                BATCH_ROWS, self.batch_bytes, self.max_line,
            )  # fmt: skip
            try:
                for chunk in stream:
                    yield _Batch(chunk.start, chunk.end, None, chunk.lines, [], table=chunk.table)
            finally:
                stream.close()
        finally:
            con.close()
        if stream.resume_offset < size:
            yield from self._spans(f, _Cursor(stream.resume_offset), size, summary)

    def _spans(
        self, f: Any, cur: _Cursor, size: int, summary: IngestSummary
    ) -> Generator[_Batch, None, None]:
        """JSONL read by DuckDB: byte spans of whole lines, about ``ingest.batch_bytes`` each,
        planned by looking only near their ends; the workers copy and count them. A line over
        ``ingest.max_line_bytes`` is skipped by scanning for its end, never held in memory; an
        incomplete last line waits for the next run."""
        offset = cur.offset
        share = -(-(size - offset) // self.workers)  # the new bytes, split among the workers
        while offset < size:
            span = self._span_bytes(f, offset)
            if share >= SPLIT_MIN_BYTES:  # a grown log's new bytes: every worker gets a part
                span = min(span, share)
            target = min(offset + span, size)
            if size - target < span // 4:  # not a sliver of a batch after this one
                target = size
            end = _last_newline_end(f, offset, target)
            if end is None:  # no newline before target: one line longer than a batch
                nl = self._scan_to_newline(f, target, size) if target < size else None
                if nl is None:
                    summary.waiting_bytes += size - offset
                    return
                if nl - offset - 1 > self.max_line:
                    f.seek(offset)
                    head = f.read(1200)
                    detail = f"{nl - offset - 1:,} bytes, over the {self.max_line:,} byte limit"
                    yield _Batch(offset, nl, b"", 1, [(0, "line_too_long", detail, excerpt(head))])
                    offset = nl
                    continue
                end = nl
            yield _Batch(offset, end, None, None, [])
            offset = end

    def _span_bytes(self, f: Any, offset: int) -> int:
        """``ingest.batch_bytes``, or less where lines are short: about ``BATCH_ROWS`` lines
        (estimated from the next MiB), so a commit's lock time and a worker's memory follow
        the rows, not the bytes."""
        f.seek(offset)
        sample = f.read(1 << 20)
        lines = sample.count(b"\n")
        if lines < 2:
            return self.batch_bytes
        return min(self.batch_bytes, max(64 << 10, len(sample) * BATCH_ROWS // lines))

    def _batches(
        self, f: Any, container: str, cur: _Cursor, size: int, summary: IngestSummary
    ) -> Generator[_Batch, None, None]:
        """Whole lines from the cursor on, ``ingest.batch_bytes`` at a time. A line over ``ingest.max_line_bytes`` is skipped by
        scanning for its end, never held in memory."""
        if container == "json":
            f.seek(0)
            data = f.read()
            yield _Batch(0, size, data, data.count(b"\n") + 1, [])
            return
        offset = cur.offset
        while offset < size:
            f.seek(offset)
            data = f.read(self.batch_bytes)
            cut = data.rfind(b"\n")
            while cut < 0 and len(data) <= self.max_line and offset + len(data) < size:
                more = f.read(self.batch_bytes)  # one line longer than a batch
                if not more:
                    break
                data += more
                cut = data.rfind(b"\n")
            if cut < 0 and len(data) > self.max_line:
                end = self._scan_to_newline(f, offset + len(data), size)
                if end is None:
                    summary.waiting_bytes += size - offset
                    return
                detail = f"{end - offset - 1:,} bytes, over the {self.max_line:,} byte limit"
                yield _Batch(
                    offset, end, b"", 1, [(0, "line_too_long", detail, excerpt(data[:1200]))]
                )
                offset = end
                continue
            if cut < 0:
                summary.waiting_bytes += size - offset
                return
            chunk = data[: cut + 1]
            n = chunk.count(b"\n")
            yield _Batch(offset, offset + len(chunk), chunk, n, [])
            offset += len(chunk)

    @staticmethod
    def _scan_to_newline(f: Any, pos: int, size: int) -> int | None:
        """Offset just past the next newline at or after ``pos``, or None at end of file."""
        f.seek(pos)
        while pos < size:
            block = f.read(1 << 20)
            if not block:
                return None
            i = block.find(b"\n")
            if i >= 0:
                return pos + i + 1
            pos += len(block)
        return None

    # -- warehouse units of work ----------------------------------------------------------
    def _read_cursor(self, key: str) -> _Cursor:
        with self.wh.connect() as con:
            return ledger.read_cursor(con, key)

    def _mark_interrupted(self) -> None:
        with self.wh.connect() as con:
            ledger.mark_interrupted_loads(con)

    def _start_load(self, key: str, source: str) -> str:
        load_id = f"{self.run_id}-{uuid.uuid4().hex[:8]}"
        with self.wh.connect() as con:
            ledger.start_load(con, load_id, self.run_id, source, key)
        return load_id

    def _end_load(self, load_id: str, status: str, error: str | None = None) -> None:
        with self.wh.connect() as con:
            ledger.end_load(con, load_id, status, error)

    def _commit(
        self,
        con: Any,
        job: _FileJob,
        parsed: _Parsed,
        end: int,
        lines: int,
        head_hash: str,
        nbytes: int,
        summary: IngestSummary,
    ) -> None:
        """One short transaction: the batch's attempts (anti-joined on ``attempt_id``), its
        quarantined rows, the advanced cursor and the load's counters."""
        src, key, load_id = source_name(job.fmt), job.key, job.load_id
        total_ok, lo, hi, skipped = parsed.total_ok, parsed.lo, parsed.hi, parsed.skipped
        with self.wh.attach(con) as wh, transaction(con):
            inserted = 0
            if lo is not None:
                inserted = con.execute(
                    f"INSERT INTO {wh}.raw_attempts BY NAME "
                    "SELECT n.*, ? AS load_id, now()::TIMESTAMP AS ingested_at FROM to_insert n "
                    f"ANTI JOIN (SELECT attempt_id FROM {wh}.raw_attempts "
                    "WHERE started_at BETWEEN ? AND ?) e USING (attempt_id)",
                    [load_id, lo, hi],
                ).fetchone()[0]
            n_bad = con.execute(
                f"INSERT INTO {wh}.raw_quarantine SELECT ?, ?, ?, source_line, reason, detail, "
                "raw_excerpt, now()::TIMESTAMP FROM bad",
                [load_id, src, key],
            ).fetchone()[0]
            dups = int(total_ok) - int(inserted)
            ledger.advance_cursor(con, wh, key, src, _Cursor(end, lines, head_hash, job.size))
            ledger.count_batch(
                con,
                wh,
                load_id,
                loaded=inserted,
                duplicates=dups,
                quarantined=n_bad,
                skipped=skipped,
                nbytes=nbytes,
            )
        log.info(
            "%s: committed through line %d (%d loaded, %d duplicates, %d quarantined)",
            key,
            lines,
            inserted,
            dups,
            n_bad,
        )
        summary.attempts_loaded += int(inserted)
        summary.duplicates_skipped += dups
        summary.quarantined += int(n_bad)
        summary.skipped += int(skipped)
        summary.quarantined_by_reason.update(parsed.reasons)

    def _finish(self, summary: IngestSummary) -> None:
        if not summary.load_ids:
            return
        with self.wh.connect() as con:
            marks = ", ".join("?" for _ in summary.load_ids)
            n, lo, hi = con.execute(
                f"SELECT count(DISTINCT logical_request_id), min(started_at), max(started_at) "
                f"FROM raw_attempts WHERE load_id IN ({marks})",
                summary.load_ids,
            ).fetchall()[0]
        summary.logical_requests = int(n or 0)
        summary.first_started_at, summary.last_started_at = lo, hi


def _last_newline_end(f: Any, lo: int, hi: int) -> int | None:
    """Offset just past the last newline in ``[lo, hi)``, read backwards a MiB at a time."""
    pos = hi
    while pos > lo:
        w = max(lo, pos - (1 << 20))
        f.seek(w)
        i = f.read(pos - w).rfind(b"\n")
        if i >= 0:
            return w + i + 1
        pos = w
    return None


def files_to_ingest(
    cfg: Config, paths: list[str] | None = None, fmt: str = "auto", mapping: str | None = None
) -> list[tuple[Path, str, str | None]]:
    """(file, format, mapping) for ``paths`` (files, globs or folders), or for every configured
    ``[[sources]]`` when none; a bad format or mapping stops here, before anything is read."""
    if fmt != "auto" or mapping:
        logs.get("mapped" if mapping and fmt == "auto" else fmt, mapping)
    if paths:
        return [(p, fmt, mapping) for p in expand(paths)]
    files: list[tuple[Path, str, str | None]] = []
    for s in cfg.sources:
        pattern = str(cfg.resolve(s.path))
        files += [(p, s.format, s.mapping) for p in expand([pattern]) if p.is_file()]
    return files
