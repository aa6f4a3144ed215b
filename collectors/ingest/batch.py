"""One batch: bytes of one log format -> normalized rows, on an in-memory DuckDB with no warehouse.

:func:`run_format` fills table ``cand`` from a batch of complete records, with the reader of its
container (:mod:`~collectors.ingest.read_jsonl`, :mod:`~collectors.ingest.read_csv`);
:func:`normalize_batch` runs :func:`collectors.ingest.normalize.normalize` over it and leaves the
tables the engine commits. :func:`parse_bytes` is the pure ``payload -> (attempts, quarantined)``
used by tests and by anyone scripting a format.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from collectors import logs
from collectors.ingest.candidates import BatchResult, release_candidates
from collectors.ingest.normalize import install_macros, normalize
from collectors.ingest.plan import SNIFF_BYTES, sniff_container
from collectors.ingest.read_csv import load_sql_csv
from collectors.ingest.read_jsonl import load_python, load_sql_document, load_sql_jsonl
from collectors.logs.base import LogFormat, PythonFormat, SqlFormat
from collectors.records import Attempt, Quarantined
from collectors.warehouse import configure


def source_name(fmt: LogFormat) -> str:
    return str(getattr(fmt, "source_name", fmt.name))


def family_name(fmt: LogFormat) -> str:
    return str(getattr(fmt, "source_name", fmt.family))


def _mem() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    configure(con)
    install_macros(con)
    return con


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
        return load_python(con, fmt, container, data, first_line, max_bytes)
    assert isinstance(fmt, SqlFormat)
    if container == "csv":
        return load_sql_csv(con, fmt, data, first_line, tmpdir, header)
    if container == "json":
        path = tmpdir / "document.json"
        path.write_bytes(data)
        return load_sql_document(con, fmt, path, max_bytes)
    return load_sql_jsonl(con, fmt, data, first_line, tmpdir, max_bytes, staged, counted)


@dataclass
class Parsed:
    """A batch normalized on its connection (tables ``to_insert`` and ``bad``), counted."""

    n_lines: int
    total_ok: int
    lo: datetime | None
    hi: datetime | None
    skipped: int
    reasons: dict[str, int]


def normalize_batch(
    con: duckdb.DuckDBPyConnection,
    fmt: LogFormat,
    source_file: str,
    n_lines: int,
    quarantine: list[tuple[int, str, str, str]],
    streamed: bool = False,
) -> Parsed:
    """``cand`` -> ``to_insert`` (the batch's attempts, an id twice in the batch kept at its
    first line) and ``bad`` (the rows normalisation refused, and ``quarantine``: the lines the
    reader refused). ``streamed``: ``cand`` is a view over a batch of the stream
    (:func:`~collectors.ingest.candidates.load_candidates`), released once normalised."""
    normalize(con, source_name(fmt), family_name(fmt), source_file)
    if streamed:
        release_candidates(con)
    total_ok, distinct = con.execute(
        "SELECT count(*), count(DISTINCT attempt_id) FROM norm_ok"
    ).fetchall()[0]
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
    if quarantine:
        con.executemany("INSERT INTO bad VALUES (?, ?, ?, ?)", [list(q) for q in quarantine])
    lo, hi = con.execute("SELECT min(started_at), max(started_at) FROM to_insert").fetchall()[0]
    skipped = con.execute(
        "SELECT count(*) FROM norm_typed WHERE reject_reason = 'skip'"
    ).fetchall()[0][0]
    reasons = dict(con.execute("SELECT reason, count(*) FROM bad GROUP BY reason").fetchall())
    return Parsed(n_lines, int(total_ok), lo, hi, int(skipped), reasons)


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
    fmt_obj = logs.get(fmt) if isinstance(fmt, str) else fmt
    con = _mem()
    with tempfile.TemporaryDirectory(prefix="routeledger-") as d:
        tmpdir = Path(d)
        container = sniff_container(fmt_obj, payload[:SNIFF_BYTES])
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
