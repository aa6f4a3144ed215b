"""Turning bytes of one log format into attempts: the parse half of ingest, with no warehouse.

:func:`load_batch` fills table ``cand`` on an in-memory DuckDB connection from a file of
complete records and runs :func:`collectors.logs.normalize.normalize`; :func:`parse_bytes` is the
pure ``payload -> (attempts, quarantined)`` used by tests and by anyone scripting a format.

Reading JSON lines takes a fast path (DuckDB ``read_json`` with the format's column spec over the
whole batch) and, only when that fails, a careful path: each line is checked in Python (UTF-8,
length, JSON, an object), the good ones are read by DuckDB again, and any line DuckDB still
refuses is found by bisection. So one bad line costs a few extra reads, never the batch.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from collectors.logs.base import (
    CANDIDATE_COLUMNS,
    LogFormat,
    PythonFormat,
    RecordError,
    SqlFormat,
    sql_literal,
)
from collectors.logs.normalize import install_macros, normalize
from collectors.records import Attempt, Quarantined
from collectors.redact import elide_quoted, redact
from collectors.warehouse import configure

EXCERPT_CHARS = 300


_PROMPT_KEY_RE = re.compile(
    r'"(messages|prompt|prompts|content|response|choices|completion|input|output|text|system|'
    r'instructions|query|proxy_server_request|payload)"\s*:'
    # OTLP attributes name their content in a value: {"key": "gen_ai.prompt", "value": ...}
    r'|"key"\s*:\s*"(gen_ai\.(prompt|completion|input|output|system)|llm\.(prompts|completions|'
    r"input_messages|output_messages)|(input|output)\.value)",
    re.IGNORECASE,
)


def excerpt(raw: bytes | str) -> str:
    """A short, redacted start of a bad row for the quarantine table: cut before the first
    prompt- or response-like key, so no prompt text is kept even when the row is not JSON."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text[: EXCERPT_CHARS * 4]
    m = _PROMPT_KEY_RE.search(text)
    if m:
        text = text[: m.end()] + " [dropped]"
    return redact(text)[:EXCERPT_CHARS]


def source_name(fmt: LogFormat) -> str:
    return str(getattr(fmt, "source_name", fmt.name))


def family_name(fmt: LogFormat) -> str:
    return str(getattr(fmt, "source_name", fmt.family))


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
class BatchResult:
    rows_in: int = 0
    skipped: int = 0
    quarantine: list[tuple[int, str, str, str]] = field(
        default_factory=list
    )  # line, reason, detail, excerpt


def _mem() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    configure(con)
    install_macros(con)
    return con


def _columns_literal(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in columns.items()) + "}"


def _read_json_sql(fmt: SqlFormat, fmt_kind: str, max_bytes: int, source: str = "?") -> str:
    """``read_json`` with the format's columns; ``source`` a parameter, or a path literal
    (:func:`~collectors.logs.base.sql_literal`) where the SQL becomes a view."""
    return (
        f"SELECT * FROM read_json({source}, format='{fmt_kind}', "
        f"columns={_columns_literal(fmt.read_columns())}, maximum_object_size={int(max_bytes) + 16})"
    )


def stream_read_sql(fmt: SqlFormat, path: Path, max_bytes: int) -> str:
    """The ``read_json`` of a whole JSONL log that :mod:`collectors.stream` streams."""
    return _read_json_sql(fmt, "newline_delimited", max_bytes, sql_literal(str(path)))


def load_candidates(con: duckdb.DuckDBPyConnection, table: pa.Table, first_line: int) -> bool:
    """``cand`` from a batch of the stream (:class:`collectors.stream.RowStream`): a view over
    its Arrow rows, numbered from ``first_line`` (:func:`release_candidates` drops it after
    normalising). False, and no view, when a value needs the careful path to say which line it
    is on (NaN / Infinity, which DuckDB reads and Python refuses: the stream's
    ``rl_nonfinite`` column)."""
    import numpy as np
    import pyarrow.compute as pc

    if pc.any(table.column(NONFINITE_COLUMN)).as_py():
        return False
    lines = pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    rows = table.drop_columns([NONFINITE_COLUMN]).add_column(0, "source_line", lines)
    con.execute("DROP TABLE IF EXISTS cand")
    con.register("stream_batch", rows)
    con.execute("CREATE OR REPLACE TEMP VIEW cand AS SELECT * FROM stream_batch")
    return True


def release_candidates(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS cand")
    con.unregister("stream_batch")


def _src_from_data(con: duckdb.DuckDBPyConnection) -> None:
    """``src`` is always a view: over ``src_data`` here, over ``src_rows`` on the fast path."""
    con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM src_data")


def candidate_sql(con: duckdb.DuckDBPyConnection, fmt: SqlFormat) -> str:
    """The view ``fmt_out`` (the format's select over ``src``) and the select list that makes
    its columns the candidate columns, all text (NULL where the format has none)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW fmt_out AS {fmt.select()}")
    cur = con.execute("SELECT * FROM fmt_out LIMIT 0")
    have = {d[0] for d in cur.description}
    cur.fetchall()
    return ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}" if c in have else f"NULL::VARCHAR AS {c}"
        for c in CANDIDATE_COLUMNS
    )


def _fill_cand(con: duckdb.DuckDBPyConnection, fmt: SqlFormat) -> None:
    """``src`` (with ``source_line``) -> ``cand`` via the format's select, all columns text."""
    cols = candidate_sql(con, fmt)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cand AS SELECT source_line::BIGINT AS source_line, {cols} FROM fmt_out"
    )


def _write(path: Path, lines: Iterable[bytes]) -> None:
    with open(path, "wb") as f:
        for line in lines:
            f.write(line)
            f.write(b"\n")


def _check_line(raw: bytes, max_bytes: int) -> tuple[str, str] | None:
    """Why a JSON line cannot be a record, or None when it can."""
    if len(raw) > max_bytes:
        return "line_too_long", f"{len(raw):,} bytes, over the {max_bytes:,} byte limit"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return "invalid_utf8", f"byte {e.start} is not UTF-8"
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return "too_deeply_nested", "JSON nested deeper than the parser allows"
    except ValueError as e:
        return "invalid_json", str(e).split("\n", 1)[0][:160]
    if not isinstance(doc, dict):
        return "not_an_object", f"a JSON {type(doc).__name__}, not an object"
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_lines_careful(
    con: duckdb.DuckDBPyConnection,
    fmt: SqlFormat,
    lines: list[tuple[int, bytes]],
    tmp: Path,
    max_bytes: int,
    result: BatchResult,
    append: bool = False,
) -> None:
    """Check each line in Python, read the good ones with DuckDB (bisecting what it refuses)
    into ``src_data``; ``append`` adds to the ``src_data`` of an earlier part of the batch."""
    good: list[tuple[int, bytes]] = []
    for no, raw in lines:
        if no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a byte order mark before the first record
        why = _check_line(raw, max_bytes)
        if why:
            result.quarantine.append((no, why[0], why[1], excerpt(raw)))
        else:
            good.append((no, raw))
    first = not append
    for part in _bisect(con, fmt, good, tmp, max_bytes, result):
        _write(tmp, (raw for _, raw in part))
        sql = _read_json_sql(fmt, "newline_delimited", max_bytes)
        arr = pa.array([no for no, _ in part], pa.int64())
        con.register("part_lines", pa.table({"source_line": arr}))
        body = (
            f"SELECT p.source_line, r.* FROM (SELECT row_number() OVER () AS i, * FROM ({sql})) r "
            "JOIN (SELECT row_number() OVER () AS i, source_line FROM part_lines) p USING (i)"
        )
        if first:
            con.execute(f"CREATE OR REPLACE TEMP TABLE src_data AS {body}", [str(tmp)])
            first = False
        else:
            con.execute(f"INSERT INTO src_data {body}", [str(tmp)])
        con.unregister("part_lines")
    if first and not append:  # nothing readable: an empty src with the right columns
        sql = _read_json_sql(fmt, "newline_delimited", max_bytes)
        _write(tmp, [])
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE src_data AS SELECT 0::BIGINT AS source_line, * FROM ({sql}) LIMIT 0",
            [str(tmp)],
        )


def _bisect(
    con: duckdb.DuckDBPyConnection,
    fmt: SqlFormat,
    lines: list[tuple[int, bytes]],
    tmp: Path,
    max_bytes: int,
    result: BatchResult,
) -> list[list[tuple[int, bytes]]]:
    """Split ``lines`` into parts DuckDB reads whole; quarantine single lines it refuses.

    The probe materializes every column (a ``count(*)`` would not convert them, so a field of
    the wrong JSON type would pass here and fail the real read). A single line DuckDB refuses
    but Python parsed (a repeated key: JSON keeps the last) is tried once more re-serialized."""
    if not lines:
        return []
    error = _probe(con, fmt, lines, tmp, max_bytes)
    if error is None:
        return [lines]
    if len(lines) == 1:
        no, raw = lines[0]
        again = [(no, json.dumps(json.loads(raw.decode("utf-8-sig")), ensure_ascii=False).encode())]
        if again[0][1] != raw and _probe(con, fmt, again, tmp, max_bytes) is None:
            return [again]
        result.quarantine.append((no, "unreadable", error[:200], excerpt(raw)))
        return []
    mid = len(lines) // 2
    return _bisect(con, fmt, lines[:mid], tmp, max_bytes, result) + _bisect(
        con, fmt, lines[mid:], tmp, max_bytes, result
    )


def _probe(
    con: duckdb.DuckDBPyConnection,
    fmt: SqlFormat,
    lines: list[tuple[int, bytes]],
    tmp: Path,
    max_bytes: int,
) -> str | None:
    """None when DuckDB reads ``lines`` whole, one record each; else why not (quoted values
    elided: DuckDB quotes the data it choked on, which may be a prompt)."""
    _write(tmp, (raw for _, raw in lines))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE probe AS "
            f"SELECT * FROM ({_read_json_sql(fmt, 'newline_delimited', max_bytes)})",
            [str(tmp)],
        )
        n = con.execute("SELECT count(*) FROM probe").fetchall()[0][0]
        con.execute("DROP TABLE probe")
    except duckdb.Error as e:
        return elide_quoted(str(e).split("\n", 1)[0])
    return None if n == len(lines) else f"read {n} records from {len(lines)} lines"


# JSON's non-finite literals: DuckDB's reader takes them, Python's (the careful path) refuses them
NONFINITE_COLUMN = "rl_nonfinite"


def nonfinite_sql(columns: Iterable[str] = CANDIDATE_COLUMNS) -> str:
    """SQL true when a candidate column holds a non-finite JSON literal."""
    return "(" + " OR ".join(f"{c} IN ('NaN', 'Infinity', '-Infinity')" for c in columns) + ")"


def load_sql_jsonl(
    con: duckdb.DuckDBPyConnection,
    fmt: SqlFormat,
    data: bytes | None,
    first_line: int,
    tmpdir: Path,
    max_bytes: int,
    staged: Path | None = None,
    counted: tuple[int, bool, int] | None = None,
) -> BatchResult:
    """``data`` is whole lines (each ending in a newline); fills ``cand``. ``staged`` is a file
    already holding exactly those lines (a copy made by an ingest worker, or the log itself
    when the batch is the whole file); then ``data`` may be None, with ``counted`` = (lines,
    whether a line is empty, the longest line), and is read from ``staged`` only if the careful
    path needs it."""
    result = BatchResult()
    tmp = tmpdir / "careful.jsonl"
    if staged is None:
        assert data is not None
        staged = tmpdir / "batch.jsonl"
        staged.write_bytes(data)
    if counted is None or data is not None:
        if data is None:
            data = staged.read_bytes()
        n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        blank = b"\n\n" in data or data.startswith(b"\n")
        longest = 0  # lines over the limit make DuckDB's read fail (maximum_object_size)
    else:
        n_lines, blank, longest = counted
    fast_ok = False
    # a blank line would shift line numbers; DuckDB skips it, so the row count below catches it
    if n_lines and not blank and longest <= max_bytes:
        try:
            # rowid follows the file's order (insertion order is preserved): line = first + rowid
            con.execute(
                "CREATE OR REPLACE TEMP TABLE src_rows AS SELECT * "
                f"FROM ({_read_json_sql(fmt, 'newline_delimited', max_bytes)})",
                [str(staged)],
            )
            row = con.execute("SELECT count(*) FROM src_rows").fetchall()[0]
            fast_ok = bool(row and row[0] == n_lines)
            if fast_ok:
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW src AS SELECT rowid + {int(first_line)} AS source_line, * "
                    "FROM src_rows"
                )
                _fill_cand(con, fmt)
                found = con.execute(f"SELECT count(*) FROM cand WHERE {nonfinite_sql()}").fetchall()
                if found[0][0]:
                    fast_ok = False  # NaN / Infinity: the careful path says which lines
                else:
                    return result
        except duckdb.Error:
            fast_ok = False
    if not fast_ok and data is None:
        # a staged span (up to a GiB): checked a part at a time, never held whole
        line_no, append = first_line, False
        for part, n in _line_parts(staged, max_bytes):
            if part is None:
                result.quarantine.append((line_no, "line_too_long", *n_over(n, max_bytes)))
                line_no += 1
                continue
            lines = part.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            numbered = [(k, r) for k, r in enumerate(lines, start=line_no) if r.strip()]
            _read_lines_careful(con, fmt, numbered, tmp, max_bytes, result, append)
            line_no, append = line_no + len(lines), True
        if not append:
            _read_lines_careful(con, fmt, [], tmp, max_bytes, result)
        _src_from_data(con)
    elif not fast_ok:
        assert data is not None
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        numbered = [(n, r) for n, r in enumerate(lines, start=first_line) if r.strip()]
        _read_lines_careful(con, fmt, numbered, tmp, max_bytes, result)
        _src_from_data(con)
    _fill_cand(con, fmt)
    return result


def load_sql_document(
    con: duckdb.DuckDBPyConnection, fmt: SqlFormat, path: Path, max_bytes: int
) -> BatchResult:
    """A JSON array of records, or one (pretty-printed) record, in a file."""
    result = BatchResult()
    head = path.read_bytes()[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = "array" if head[:1] == b"[" else "unstructured"
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE src_data AS SELECT row_number() OVER () AS source_line, * "
            f"FROM ({_read_json_sql(fmt, kind, max(max_bytes, path.stat().st_size))})",
            [str(path)],
        )
    except duckdb.Error as e:
        # fall back to Python: split the document into records and read them as lines
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError) as e2:
            result.quarantine.append(
                (
                    1,
                    "invalid_json",
                    str(e2).split("\n", 1)[0][:160],
                    excerpt(path.read_bytes()[:400]),
                )
            )
            doc = None
        records = doc if isinstance(doc, list) else ([doc] if doc is not None else [])
        lines = [
            (i, json.dumps(r, ensure_ascii=False).encode()) for i, r in enumerate(records, start=1)
        ]
        if doc is not None and not lines:
            result.quarantine.append((1, "unreadable", str(e).split("\n", 1)[0][:200], ""))
        _read_lines_careful(con, fmt, lines, path.parent / "records.jsonl", max_bytes, result)
    _src_from_data(con)
    _fill_cand(con, fmt)
    return result


def load_python_docs(
    con: duckdb.DuckDBPyConnection,
    fmt: PythonFormat,
    docs: Iterable[tuple[int, bytes | Any]],
    max_bytes: int,
) -> BatchResult:
    """Documents (raw JSON bytes, or already parsed) -> ``cand`` via ``fmt.extract``."""
    result = BatchResult()
    rows: list[dict[str, Any]] = []
    for no, item in docs:
        if isinstance(item, bytes):
            if not item.strip():
                continue
            why = _check_line(item, max_bytes)
            if why:
                result.quarantine.append((no, why[0], why[1], excerpt(item)))
                continue
            doc = json.loads(item.decode("utf-8"))
        else:
            doc = item
        try:
            extracted = list(fmt.extract(doc))
        except RecordError as e:
            result.quarantine.append(
                (no, e.reason, e.detail[:200], excerpt(json.dumps(doc)[:1200]))
            )
            continue
        for row in extracted:
            rows.append({"source_line": no, **{c: row.get(c) for c in CANDIDATE_COLUMNS}})
    schema = pa.schema(
        [("source_line", pa.int64())] + [(c, pa.string()) for c in CANDIDATE_COLUMNS]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    con.register("py_cand", table)
    con.execute("CREATE OR REPLACE TEMP TABLE cand AS SELECT * FROM py_cand")
    con.unregister("py_cand")
    return result


@dataclass
class ParseResult:
    attempts: list[Attempt]
    quarantined: list[Quarantined]
    skipped: int = 0


def parse_bytes(
    fmt: LogFormat | str,
    payload: bytes,
    source_file: str = "<bytes>",
    max_line_bytes: int = 16 * 1024 * 1024,
) -> ParseResult:
    """Parse a whole payload of one format with no warehouse: the pure parse for tests and
    scripts. Exactly what ingest loads, before deduplication against earlier loads."""
    from collectors import logs

    fmt_obj = logs.get(fmt) if isinstance(fmt, str) else fmt
    con = _mem()
    with tempfile.TemporaryDirectory(prefix="routeledger-") as d:
        tmpdir = Path(d)
        container = sniff_container(fmt_obj, payload[:65536])
        res = run_format(con, fmt_obj, container, payload, 1, tmpdir, max_line_bytes)
        normalize(con, source_name(fmt_obj), family_name(fmt_obj), source_file)
        attempts = fetch_attempts(con)
        quarantined = [
            Quarantined(source_name(fmt_obj), source_file, int(r[0]), r[1], r[2] or "", r[3] or "")
            for r in con.execute(
                "SELECT source_line, reason, detail, raw_excerpt FROM norm_bad ORDER BY source_line"
            ).fetchall()
        ] + [
            Quarantined(source_name(fmt_obj), source_file, q[0], q[1], q[2], q[3])
            for q in res.quarantine
        ]
        skipped = con.execute(
            "SELECT count(*) FROM norm_typed WHERE reject_reason = 'skip'"
        ).fetchall()[0]
    con.close()
    quarantined.sort(key=lambda q: q.source_line)
    return ParseResult(attempts, quarantined, int(skipped[0]) if skipped else 0)


def run_format(
    con: duckdb.DuckDBPyConnection,
    fmt: LogFormat,
    container: str,
    data: bytes | None,
    first_line: int,
    tmpdir: Path,
    max_bytes: int,
    header: bytes | None = None,
    staged: Path | None = None,
    counted: tuple[int, bool, int] | None = None,
) -> BatchResult:
    """Fill ``cand`` from ``data`` (whole lines for jsonl/csv, the whole file for json; None
    for a JSONL batch already in ``staged``, see :func:`load_sql_jsonl`)."""
    if data is None:
        assert staged is not None and isinstance(fmt, SqlFormat) and container == "jsonl"
        return load_sql_jsonl(con, fmt, None, first_line, tmpdir, max_bytes, staged, counted)
    if isinstance(fmt, PythonFormat):
        if container == "json":
            try:
                doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
            except (ValueError, RecursionError) as e:
                r = load_python_docs(con, fmt, [], max_bytes)
                r.quarantine.append(
                    (1, "invalid_json", str(e).split("\n", 1)[0][:160], excerpt(data[:400]))
                )
                return r
            docs = list(enumerate(doc if isinstance(doc, list) else [doc], start=1))
            return load_python_docs(con, fmt, docs, max_bytes)
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return load_python_docs(con, fmt, enumerate(lines, start=first_line), max_bytes)
    assert isinstance(fmt, SqlFormat)
    if container == "csv":
        from collectors.csvload import load_sql_csv

        return load_sql_csv(con, fmt, data, first_line, tmpdir, header)
    if container == "json":
        path = tmpdir / "document.json"
        path.write_bytes(data)
        return load_sql_document(con, fmt, path, max_bytes)
    return load_sql_jsonl(con, fmt, data, first_line, tmpdir, max_bytes, staged, counted)


def fetch_attempts(con: duckdb.DuckDBPyConnection) -> list[Attempt]:
    names = [n for n in Attempt.field_names() if n != "load_id"]
    rows = con.execute(
        f"SELECT {', '.join(names)} FROM norm_ok ORDER BY source_line, attempt_id"
    ).fetchall()
    out = []
    for r in rows:
        values = dict(zip(names, r, strict=True))
        if values["reported_cost_usd"] is not None:
            values["reported_cost_usd"] = Decimal(values["reported_cost_usd"])
        out.append(Attempt(**values))
    return out


PART_BYTES = 64 << 20


def n_over(n: tuple[int, bytes], max_bytes: int) -> tuple[str, str]:
    """(detail, excerpt) of a line of ``n[0]`` bytes starting ``n[1]``, over the limit."""
    return f"{n[0]:,} bytes, over the {max_bytes:,} byte limit", excerpt(n[1])


def _line_parts(path: Path, max_bytes: int) -> Iterator[tuple[bytes | None, Any]]:
    """Whole lines of ``path``, about ``PART_BYTES`` at a time: (bytes, None); a line over
    ``max_bytes`` is scanned past, never read whole: (None, (its length, its first bytes))."""
    part = max(PART_BYTES, max_bytes + 2)
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            data = f.read(part)
            cut = data.rfind(b"\n")
            if cut >= 0 or pos + len(data) >= size:
                chunk = data[: cut + 1] if cut >= 0 else data
                yield chunk, None
                pos += len(chunk)
                continue
            end = pos + len(data)  # no newline in more than max_bytes: one line too long
            while True:
                block = f.read(1 << 20)
                if not block:
                    break
                i = block.find(b"\n")
                if i >= 0:
                    end += i + 1
                    break
                end += len(block)
            yield None, (end - pos - 1, data[:1200])
            pos = end


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


def mem_connection(
    threads: int | None = None, temp_directory: Path | None = None, memory_mb: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for parsing: no lock. Ingest runs one per worker thread, each with
    ``threads`` DuckDB threads, a share of the memory budget, and its own spill directory."""
    con = _mem()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_mb:
        con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
    if temp_directory is not None:
        con.execute("SET temp_directory = ?", [str(temp_directory)])
    return con


def temp_dir(base: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(
        prefix="routeledger-", dir=str(base) if base else os.environ.get("TMPDIR")
    )
