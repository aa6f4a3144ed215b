"""JSON lines and JSON documents -> the source rows of a batch, and on to table ``cand``.

Reading JSON lines takes a fast path (DuckDB ``read_json`` with the format's column spec over the
whole batch) and, only when that fails, a careful path: each line is checked in Python (UTF-8,
length, JSON, an object), the good ones are read by DuckDB again, and any line DuckDB still
refuses is found by bisection. So one bad line costs a few extra reads, never the batch.

A SQL format's rows go through its ``select`` (:func:`collectors.ingest.candidates.fill_cand`);
a Python format's documents through its ``extract`` (:func:`load_python`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from collectors.ingest.candidates import BatchResult, fill_cand, nonfinite_sql, src_from_data
from collectors.logs.base import (
    CANDIDATE_COLUMNS,
    PythonFormat,
    RecordError,
    SqlFormat,
    sql_literal,
)
from collectors.redact import elide_quoted, excerpt

PART_BYTES = 64 << 20


def columns_literal(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in columns.items()) + "}"


def _read_json_sql(fmt: SqlFormat, fmt_kind: str, max_bytes: int, source: str = "?") -> str:
    """``read_json`` with the format's columns; ``source`` a parameter, or a path literal
    (:func:`~collectors.logs.base.sql_literal`) where the SQL becomes a view."""
    return (
        f"SELECT * FROM read_json({source}, format='{fmt_kind}', "
        f"columns={columns_literal(fmt.read_columns())}, maximum_object_size={int(max_bytes) + 16})"
    )


def stream_read_sql(fmt: SqlFormat, path: Path, max_bytes: int) -> str:
    """The ``read_json`` of a whole JSONL log that :mod:`collectors.ingest.stream` streams."""
    return _read_json_sql(fmt, "newline_delimited", max_bytes, sql_literal(str(path)))


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
                fill_cand(con, fmt)
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
        src_from_data(con)
    elif not fast_ok:
        assert data is not None
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        numbered = [(n, r) for n, r in enumerate(lines, start=first_line) if r.strip()]
        _read_lines_careful(con, fmt, numbered, tmp, max_bytes, result)
        src_from_data(con)
    fill_cand(con, fmt)
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
    src_from_data(con)
    fill_cand(con, fmt)
    return result


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


def load_python(
    con: duckdb.DuckDBPyConnection,
    fmt: PythonFormat,
    container: str,
    data: bytes,
    first_line: int,
    max_bytes: int,
) -> BatchResult:
    """``cand`` from ``data`` of a Python format: the whole file for json (one document or an
    array of them), whole lines for jsonl."""
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
