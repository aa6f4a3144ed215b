"""Ingest: log files into ``raw_attempts``, exactly once.

For each file: read its cursor (bytes and lines already loaded), plan batches of whole lines from
there (``ingest.batch_bytes``; an incomplete last line waits for the next run:
:mod:`collectors.ingest.plan`), parse each batch on an in-memory DuckDB with no lock held
(:mod:`collectors.ingest.batch`), then attach the warehouse for one short transaction that
inserts the new attempts (anti-joined on ``attempt_id``), the quarantined rows, the advanced
cursor and the load's counters together. A run killed at any point leaves whole batches and a
cursor that agrees with them; the next run carries on from there. A file whose first bytes
changed, or that shrank, was rotated: it is read again from the start, and the anti-join keeps
the attempts it already had from counting twice.

JSON documents (a pretty-printed record or an array) cannot grow by appending; they are read
whole, again only when their size or first bytes changed.
"""

from __future__ import annotations

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
from collectors.errors import RouteLedgerError, WarehouseBusy, WarehouseError
from collectors.ingest.batch import Parsed, mem_connection, normalize_batch, run_format, source_name
from collectors.ingest.candidates import BatchResult, load_candidates
from collectors.ingest.normalize import NORMALISER_VERSION
from collectors.ingest.plan import (
    SNIFF_BYTES,
    Batch,
    Planner,
    head_hash,
    sniff_container,
    stage,
    temp_dir,
)
from collectors.ingest.read_jsonl import stream_read_sql
from collectors.ingest.stream import RowStream
from collectors.logs.base import LogFormat, SqlFormat
from collectors.remote import spool
from collectors.warehouse import Warehouse, ledger, transaction
from collectors.warehouse.clickhouse import load as ch_load
from collectors.warehouse.ledger import Cursor

log = logging.getLogger(__name__)
MEMORY_BUDGET_MB = 1280  # shared by the parse connections (the ingest target: < 2 GB in all)
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
    # files read but nothing of them loaded (every row quarantined or skipped), with why
    loaded_nothing: list[dict[str, str]] = field(default_factory=list)
    unmatched_globs: list[str] = field(default_factory=list)  # patterns that matched no file
    load_ids: list[str] = field(default_factory=list)
    remote: list[Any] = field(default_factory=list)  # collectors.remote.sources.ReadResult

    @property
    def complete(self) -> bool:
        """Everything given loaded (quarantined rows included): ``routeledger ingest`` exits 0;
        otherwise 1, and the summary says which file or pattern and why."""
        return not (
            self.failed_files
            or self.loaded_nothing
            or self.unmatched_globs
            or any(r.status == "failed" for r in self.remote)
        )

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
            "files_loaded_nothing": self.loaded_nothing,
            "unmatched_globs": self.unmatched_globs,
            "remote_sources": [r.as_json() for r in self.remote],
        }


def _counts(s: IngestSummary) -> tuple[int, int, int, int, int, Counter[str]]:
    return (s.attempts_loaded, s.duplicates_skipped, s.quarantined, s.skipped, s.waiting_bytes,
            Counter(s.quarantined_by_reason))  # fmt: skip


def _loaded_nothing(
    s: IngestSummary,
    path: Path,
    before: tuple[int, int, int, int, int, Counter[str]],
    spooled: bool = False,
) -> None:
    """Record ``path`` as a file that loaded nothing when its new bytes gave no attempt (and no
    repeat of one already loaded), saying why: a whole log silently dropped is a mistake (a
    wrong format or mapping) the run must name. A spool file whose rows were only skipped is
    not one: the receiver is sent whatever spans an app exports, LLM calls or not."""
    loaded, dups, bad, skipped, waiting = (
        a - b for a, b in zip(_counts(s)[:5], before[:5], strict=True)
    )
    reasons = s.quarantined_by_reason - before[5]
    if loaded or dups or (waiting and not bad and not skipped) or (spooled and not bad):
        return
    why = []
    if bad:
        top = ", ".join(f"{k} {v:,}" for k, v in reasons.most_common(3))
        why.append(f"{_rows(bad)} quarantined ({top})")
    if skipped:
        why.append(f"{_rows(skipped)} skipped as not LLM calls (check --format / --mapping)")
    s.loaded_nothing.append({"file": str(path), "why": "; ".join(why) or "no rows"})


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _iso(t: datetime | None) -> str | None:
    return t.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if t else None


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
        self.planner = Planner(self.batch_bytes, self.max_line, self.workers)
        self.progress = progress
        self.run_id = uuid.uuid4().hex[:12]
        # on ClickHouse, batches ship as typed Arrow with tokens (collectors.warehouse.clickhouse)
        self.clickhouse = self.wh.backend == "clickhouse"

    # -- public ---------------------------------------------------------------------------
    def run(self, files: list[tuple[Path, str, str | None]]) -> IngestSummary:
        """``files``: (path, format name or 'auto', mapping file)."""
        self.wh.migrate()
        self._mark_interrupted()
        summary = IngestSummary()
        for path, fmt_name, mapping in files:
            summary.files += 1
            before = _counts(summary)
            try:
                if self._ingest_file(path, fmt_name, mapping, summary):
                    _loaded_nothing(summary, path, before, spool.holds(self.cfg, path))
            except RouteLedgerError as e:
                if isinstance(e, WarehouseError) and not isinstance(e, WarehouseBusy):
                    raise  # the warehouse itself failed (a full disk, ...): nothing can load
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
    ) -> bool:
        """Load what is new in ``path``; True when new bytes were read (False: an empty file, or
        nothing new since the last run)."""
        key = str(path.resolve())
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
            size = os.fstat(f.fileno()).st_size
            if not head.strip():
                return False  # an empty file: nothing to do, nothing to complain about
            fmt = self._resolve_format(path, fmt_name, mapping, head)
            container = sniff_container(fmt, head)
            cur = self._read_cursor(key)
            if cur.offset and (size < cur.offset or head_hash(f, cur.offset) != cur.head_hash):
                log.info("%s was truncated or replaced; reading it again from the start", path)
                cur = Cursor()
            if container == "json" and cur.offset == size:
                return False
            if container != "json" and cur.offset >= size:
                return False
            load_id = self._start_load(key, source_name(fmt))
            summary.load_ids.append(load_id)
            header = None
            if container == "csv" and cur.offset > 0:
                f.seek(0)
                header = f.readline()
            stage = container == "jsonl" and isinstance(fmt, SqlFormat)
            job = _FileJob(path, key, fmt, container, header, size, stage, load_id)

            def waiting(n: int) -> None:  # an incomplete last line, left for the next run
                summary.waiting_bytes += n

            try:
                with temp_dir() as d, open(path, "rb") as hf:
                    tmp = Path(d)
                    if stage and self.planner.stream_fits(f, fmt, cur.offset, size):
                        batches = self._streamed(job, f, size, waiting, tmp)
                    elif stage:
                        batches = self.planner.spans(f, cur.offset, size, waiting)
                    else:
                        batches = self.planner.batches(f, container, cur.offset, size, waiting)
                    try:
                        cur = self._parse_and_commit(job, batches, tmp, hf, cur, summary)
                    finally:
                        batches.close()  # a stream stops its threads
            except RouteLedgerError as e:
                try:  # its committed batches stay
                    self._end_load(load_id, "failed", str(e)[:500])
                except WarehouseError as again:  # e.g. the disk is still full: e says why
                    log.info("%s: the load could not be marked failed: %s", path, again)
                raise
            self._end_load(load_id, "ok")
            return True

    def _parse_and_commit(
        self,
        job: _FileJob,
        batches: Iterator[Batch],
        tmpdir: Path,
        hf: Any,
        cur: Cursor,
        summary: IngestSummary,
    ) -> Cursor:
        """Parse batches on ``workers`` threads, each on its own in-memory DuckDB (DuckDB
        releases the GIL, so they use every core), and commit them strictly in file order, so
        the cursor only ever moves over whole committed batches. A slot (connection and stage
        file) is busy from its parse until its commit; there is one slot more than workers, so
        both workers keep parsing while the main thread commits."""
        n_slots = self.workers + 1
        per_slot_threads = max(1, (os.cpu_count() or 1) // self.workers)
        free: list[_Slot] = []
        slots: list[_Slot] = []
        pending: deque[tuple[Batch, _Slot, Future[Parsed]]] = deque()
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

    def _parse(self, job: _FileJob, slot: _Slot, batch: Batch) -> Parsed:
        """Worker thread: one batch -> ``to_insert`` and ``bad`` on the slot's connection."""
        try:
            staged, n_lines, blank, longest = stage(batch, job.path, job.size, slot.dir)
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
                staged, n_lines, blank, longest = stage(batch, job.path, job.size, slot.dir, True)
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
        streamed = table is not None and not read_careful
        return normalize_batch(con, job.fmt, job.key, n_lines, res.quarantine, streamed)

    def _commit_next(
        self,
        job: _FileJob,
        pending: deque[tuple[Batch, _Slot, Future[Parsed]]],
        free: list[_Slot],
        hf: Any,
        cur: Cursor,
        summary: IngestSummary,
    ) -> Cursor:
        batch, slot, fut = pending.popleft()
        parsed = fut.result()
        lines = cur.lines + parsed.n_lines
        digest = head_hash(hf, batch.end)
        self._commit(
            slot.con, job, parsed, batch.end, lines, digest, batch.end - batch.start, summary
        )
        free.append(slot)
        if self.progress:
            self.progress(str(job.path), batch.end, job.size)
        return Cursor(batch.end, lines, digest, job.size)

    def _streamed(
        self, job: _FileJob, f: Any, size: int, waiting: Callable[[int], None], tmp: Path
    ) -> Generator[Batch, None, None]:
        """The log from its start as batches off one DuckDB scan; where the stream stops short
        (a line it cannot take one for one), span by span from the end of its last batch."""
        assert isinstance(job.fmt, SqlFormat)
        con = mem_connection(
            threads=os.cpu_count() or 1, temp_directory=tmp / "stream", memory_mb=STREAM_MEMORY_MB
        )
        try:
            read_json = stream_read_sql(job.fmt, job.path, self.max_line)
            rows, nbytes, max_line = self.planner.batch_rows, self.batch_bytes, self.max_line
            stream = RowStream(con, job.fmt, job.path, size, read_json, rows, nbytes, max_line)
            try:
                for chunk in stream:
                    yield Batch(chunk.start, chunk.end, None, chunk.lines, [], table=chunk.table)
            finally:
                stream.close()
        finally:
            con.close()
        if stream.resume_offset < size:
            yield from self.planner.spans(f, stream.resume_offset, size, waiting)

    # -- warehouse units of work ----------------------------------------------------------
    def _client(self) -> Any:
        return self.wh.client()  # type: ignore[attr-defined]

    def _read_cursor(self, key: str) -> Cursor:
        if self.clickhouse:
            return ch_load.read_cursor(self._client(), key)
        with self.wh.connect() as con:
            return ledger.read_cursor(con, key)

    def _mark_interrupted(self) -> None:
        if self.clickhouse:
            ch_load.mark_interrupted_loads(self._client())
            return
        with self.wh.connect() as con:
            ledger.mark_interrupted_loads(con)

    def _start_load(self, key: str, source: str) -> str:
        load_id = f"{self.run_id}-{uuid.uuid4().hex[:8]}"
        if self.clickhouse:
            ch_load.start_load(self._client(), load_id, self.run_id, source, key)
            return load_id
        with self.wh.connect() as con:
            ledger.start_load(con, load_id, self.run_id, source, key)
        return load_id

    def _end_load(self, load_id: str, status: str, error: str | None = None) -> None:
        if self.clickhouse:
            ch_load.end_load(self._client(), load_id, status, error)
            return
        with self.wh.connect() as con:
            ledger.end_load(con, load_id, status, error)

    def _commit(
        self,
        con: Any,
        job: _FileJob,
        parsed: Parsed,
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
        if self.clickhouse:
            counts = ch_load.commit_batch(
                self._client(),
                con,
                load_id=load_id,
                source=src,
                file_key=key,
                start=end - nbytes,
                end=end,
                lines=lines,
                head_hash=head_hash,
                size=job.size,
                nbytes=nbytes,
                normaliser_version=f"{NORMALISER_VERSION}:{src}",
                total_ok=int(total_ok),
                skipped=int(skipped),
            )
            self._counted(key, lines, counts["rows_loaded"], counts["duplicates"],
                          counts["quarantined"], parsed, summary)  # fmt: skip
            return
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
            ledger.advance_cursor(con, wh, key, src, Cursor(end, lines, head_hash, job.size))
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
        self._counted(key, lines, int(inserted), dups, int(n_bad), parsed, summary)

    @staticmethod
    def _counted(
        key: str, lines: int, inserted: int, dups: int, n_bad: int, parsed: Parsed,
        summary: IngestSummary,
    ) -> None:  # fmt: skip
        log.info(
            "%s: committed through line %d (%d loaded, %d duplicates, %d quarantined)",
            key,
            lines,
            inserted,
            dups,
            n_bad,
        )
        summary.attempts_loaded += inserted
        summary.duplicates_skipped += dups
        summary.quarantined += n_bad
        summary.skipped += int(parsed.skipped)
        summary.quarantined_by_reason.update(parsed.reasons)

    def _finish(self, summary: IngestSummary) -> None:
        if not summary.load_ids:
            return
        with self.wh.connect(read_only=self.clickhouse) as con:
            marks = ", ".join("?" for _ in summary.load_ids)
            n, lo, hi = con.execute(
                f"SELECT count(DISTINCT logical_request_id), min(started_at), max(started_at) "
                f"FROM raw_attempts WHERE load_id IN ({marks})",
                summary.load_ids,
            ).fetchall()[0]
        summary.logical_requests = int(n or 0)
        summary.first_started_at, summary.last_started_at = lo, hi
