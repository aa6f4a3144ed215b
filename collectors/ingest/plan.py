"""Files and spans: which files to read, what container each is, and the batches of whole lines
to read them in. No warehouse and no DuckDB: only the files' bytes.

:class:`Planner` cuts an open log, from a byte offset on, into :class:`Batch` objects of whole
lines (an incomplete last line waits for the next run): JSONL that DuckDB reads as byte spans
planned by looking only near their ends (:meth:`Planner.spans`; the workers copy and count them
with :func:`copy_range` and :func:`count_lines`), everything else as bytes read into memory
(:meth:`Planner.batches`). A line over the line limit is skipped by scanning for its end, never
held in memory, and quarantined as ``line_too_long``.
"""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors import logs
from collectors.config import Config
from collectors.errors import InputError
from collectors.logs.base import LogFormat, SqlFormat
from collectors.redact import excerpt
from collectors.remote import spool

HEAD_BYTES = 4096
LOG_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".log", ".txt"}
SNIFF_BYTES = 65536
BATCH_ROWS = 100_000  # most lines in one batch (one commit): bounds lock time and memory
SPLIT_MIN_BYTES = 8 << 20  # spans left over are split among the workers down to this size


def expand(paths: list[str], unmatched: list[str] | None = None) -> list[Path]:
    """The log files of ``paths`` (files, globs or folders), each once; a glob that matches no
    file is added to ``unmatched`` (a plain path that does not exist is an error)."""
    out: list[Path] = []
    for p in paths:
        matches = sorted(glob.glob(os.path.expanduser(p), recursive=True))
        if not matches and not any(ch in p for ch in "*?["):
            raise InputError(f"{p}: no such file")
        found = len(out)
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
        if unmatched is not None and len(out) == found:
            unmatched.append(p)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]  # type: ignore[func-returns-value]


def files_to_ingest(
    cfg: Config,
    paths: list[str] | None = None,
    fmt: str = "auto",
    mapping: str | None = None,
    unmatched: list[str] | None = None,
) -> list[tuple[Path, str, str | None]]:
    """(file, format, mapping) for ``paths`` (files, globs or folders), or for every configured
    ``[[sources]]`` when none; a bad format or mapping stops here, before anything is read.

    A mapping given with ``paths`` (the command line) is a path from the working directory, or
    the name of a shipped mapping; a source's mapping in ``routeledger.toml`` is relative to the
    home. Globs of ``paths`` that match no file are added to ``unmatched``."""
    if paths and mapping and not os.path.isabs(os.path.expanduser(mapping)):
        here = Path(os.path.expanduser(mapping))
        if here.exists():
            mapping = str(here.resolve())  # not the home's: the engine resolves from there
    if fmt != "auto" or mapping:
        logs.get("mapped" if mapping and fmt == "auto" else fmt, mapping)
    if paths:
        return [(p, fmt, mapping) for p in expand(paths, unmatched)]
    files: list[tuple[Path, str, str | None]] = []
    for s in cfg.sources:
        if s.kind != "files":
            continue  # fetched into the spool first: collectors.remote
        pattern = str(cfg.resolve(s.path))
        files += [(p, s.format, s.mapping) for p in expand([pattern]) if p.is_file()]
    return files + spool.to_ingest(cfg)


def head_hash(f: Any, length: int) -> str:
    f.seek(0)
    return hashlib.sha256(f.read(min(length, HEAD_BYTES))).hexdigest()[:32]


def sniff_container(fmt: LogFormat, head: bytes) -> str:
    """jsonl | json | csv for this file, from the format and its first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt.container == "csv":
        return "csv"
    if text and text[:1] not in (b"{", b"[") and isinstance(fmt, SqlFormat) and fmt.csv_ok:
        return "csv"
    if not text[:1] == b"[" and not text[:1] == b"{":
        return "jsonl"  # not JSON at all: read as lines, each quarantined for what it is
    if text[:1] == b"[":
        return "json"
    if fmt.container == "json":
        return "json"
    first = text.split(b"\n", 1)[0].strip()
    if first in (b"{", b"[") or (
        first.startswith(b"{")
        and not first.endswith((b"}", b"},"))
        and b"\n" in text
        and text.split(b"\n", 1)[1].lstrip()[:1] == b'"'
    ):
        return "json"  # a pretty-printed document spread over lines
    return "jsonl"  # one record a line; a broken line is quarantined on its own


@dataclass
class Batch:
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


class Planner:
    """Batches of whole lines of one open log ``f`` of ``size`` bytes, from ``offset`` on:
    ``batch_bytes`` (``ingest.batch_bytes``) at most, about ``batch_rows`` lines, a line over
    ``max_line`` (``ingest.max_line_bytes``) skipped; a grown log's new bytes are split among
    ``workers``. ``waiting`` is told the bytes of an incomplete last line, left for the next
    run."""

    def __init__(
        self, batch_bytes: int, max_line: int, workers: int, batch_rows: int | None = None
    ) -> None:
        self.batch_bytes, self.max_line, self.workers = batch_bytes, max_line, workers
        self.batch_rows = BATCH_ROWS if batch_rows is None else batch_rows

    def stream_fits(self, f: Any, fmt: LogFormat, offset: int, size: int) -> bool:
        """Read as one stream (:mod:`collectors.ingest.stream`): a JSONL log of a format whose
        select gives a row per record, read from its first byte, ending in a whole line, and
        more than one batch long (one batch reads the log itself, with no copy, anyway)."""
        if offset or not getattr(fmt, "row_per_record", False):
            return False
        f.seek(size - 1)
        return f.read(1) == b"\n" and size > self.span_bytes(f, 0)

    def spans(
        self, f: Any, offset: int, size: int, waiting: Callable[[int], None]
    ) -> Generator[Batch, None, None]:
        """JSONL read by DuckDB: byte spans of whole lines, about ``ingest.batch_bytes`` each,
        planned by looking only near their ends; the workers copy and count them. A line over
        ``ingest.max_line_bytes`` is skipped by scanning for its end, never held in memory; an
        incomplete last line waits for the next run."""
        share = -(-(size - offset) // self.workers)  # the new bytes, split among the workers
        while offset < size:
            span = self.span_bytes(f, offset)
            if share >= SPLIT_MIN_BYTES:  # a grown log's new bytes: every worker gets a part
                span = min(span, share)
            target = min(offset + span, size)
            if size - target < span // 4:  # not a sliver of a batch after this one
                target = size
            end = last_newline_end(f, offset, target)
            if end is None:  # no newline before target: one line longer than a batch
                nl = scan_to_newline(f, target, size) if target < size else None
                if nl is None:
                    waiting(size - offset)
                    return
                if nl - offset - 1 > self.max_line:
                    f.seek(offset)
                    head = f.read(1200)
                    detail = f"{nl - offset - 1:,} bytes, over the {self.max_line:,} byte limit"
                    yield Batch(offset, nl, b"", 1, [(0, "line_too_long", detail, excerpt(head))])
                    offset = nl
                    continue
                end = nl
            yield Batch(offset, end, None, None, [])
            offset = end

    def span_bytes(self, f: Any, offset: int) -> int:
        """``ingest.batch_bytes``, or less where lines are short: about ``batch_rows`` lines
        (estimated from the next MiB), so a commit's lock time and a worker's memory follow
        the rows, not the bytes."""
        f.seek(offset)
        sample = f.read(1 << 20)
        lines = sample.count(b"\n")
        if lines < 2:
            return self.batch_bytes
        return min(self.batch_bytes, max(64 << 10, len(sample) * self.batch_rows // lines))

    def batches(
        self, f: Any, container: str, offset: int, size: int, waiting: Callable[[int], None]
    ) -> Generator[Batch, None, None]:
        """Whole lines from ``offset`` on, ``ingest.batch_bytes`` at a time (a JSON document:
        the whole file). A line over ``ingest.max_line_bytes`` is skipped by scanning for its
        end, never held in memory."""
        if container == "json":
            f.seek(0)
            data = f.read()
            yield Batch(0, size, data, data.count(b"\n") + 1, [])
            return
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
                end = scan_to_newline(f, offset + len(data), size)
                if end is None:
                    waiting(size - offset)
                    return
                detail = f"{end - offset - 1:,} bytes, over the {self.max_line:,} byte limit"
                yield Batch(
                    offset, end, b"", 1, [(0, "line_too_long", detail, excerpt(data[:1200]))]
                )
                offset = end
                continue
            if cut < 0:
                waiting(size - offset)
                return
            chunk = data[: cut + 1]
            n = chunk.count(b"\n")
            yield Batch(offset, offset + len(chunk), chunk, n, [])
            offset += len(chunk)


def scan_to_newline(f: Any, pos: int, size: int) -> int | None:
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


def last_newline_end(f: Any, lo: int, hi: int) -> int | None:
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


def stage(
    batch: Batch, path: Path, size: int, workdir: Path, copy: bool = False
) -> tuple[Path | None, int, bool, int]:
    """The file DuckDB reads for this batch of the log ``path`` (``size`` bytes), its line
    count, whether a line is empty, and its longest line (a batch off the stream: none, and its
    planned count, unless ``copy``). A span is copied in the kernel (``copy_file_range``) into
    ``workdir`` and counted with numpy, both without the GIL; the whole file from its start
    needs no copy."""
    if batch.table is not None and not copy:
        assert batch.n_lines is not None
        return None, batch.n_lines, False, 0
    if batch.data is not None:
        data = batch.data
        assert batch.n_lines is not None
        return None, batch.n_lines, b"\n\n" in data or data.startswith(b"\n"), 0
    if batch.start == 0 and batch.end == size:
        staged = path
    else:
        staged = workdir / "stage.jsonl"
        copy_range(path, staged, batch.start, batch.end - batch.start)
    return (staged, *count_lines(staged, batch.end - batch.start))


def copy_range(src: Path, dst: Path, offset: int, length: int) -> None:
    """``length`` bytes of ``src`` from ``offset`` into a new ``dst``, in the kernel where it
    can (``copy_file_range``), else through a bounded buffer."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        done = 0
        if hasattr(os, "copy_file_range"):
            try:
                while done < length:
                    n = os.copy_file_range(fi.fileno(), fo.fileno(), length - done, offset + done)
                    if n == 0:
                        break
                    done += n
            except OSError:
                fo.seek(0)
                fo.truncate()
                done = 0
        fi.seek(offset + done)
        while done < length:
            block = fi.read(min(8 << 20, length - done))
            if not block:
                break
            fo.write(block)
            done += len(block)
    if done != length:
        raise OSError(f"{src}: {length - done} bytes short at offset {offset + done}")


def count_lines(
    path: Path, length: int | None = None, buffer_bytes: int = 8 << 20
) -> tuple[int, bool, int]:
    """Newlines in the first ``length`` bytes of ``path`` (all of it when None), whether any
    line is empty, and the longest line's length (without its newline). numpy over an 8 MiB
    buffer: no GIL held, no memory grown."""
    import numpy as np

    buf = bytearray(buffer_bytes)
    view = memoryview(buf)
    n, pos, last, blank, longest = 0, 0, -1, False, 0
    with open(path, "rb", buffering=0) as f:
        while length is None or pos < length:
            want = len(buf) if length is None else min(len(buf), length - pos)
            got = f.readinto(view[:want])
            if not got:
                break
            nl = np.flatnonzero(np.frombuffer(buf, np.uint8, count=got) == 10)
            if nl.size:
                n += int(nl.size)
                gaps = np.diff(nl)
                first_gap = int(nl[0]) + pos - last
                blank = blank or first_gap == 1 or bool((gaps == 1).any())
                longest = max(longest, first_gap - 1, int(gaps.max()) - 1 if gaps.size else 0)
                last = pos + int(nl[-1])
            pos += got
    return n, blank, longest


def temp_dir(base: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(
        prefix="routeledger-", dir=str(base) if base else os.environ.get("TMPDIR")
    )
