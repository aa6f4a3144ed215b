"""CSV logs (RouteLedger's own CSV, SpendLogs CSV exports, mapped CSV) through DuckDB's
``read_csv``, with rows that do not fit (extra or missing columns, bad UTF-8, overlong lines)
caught in DuckDB's reject tables and quarantined with their line."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from collectors.errors import InputError
from collectors.ingest.candidates import BatchResult, fill_cand, src_from_data
from collectors.logs.base import SqlFormat, sql_ident
from collectors.redact import csv_excerpt

BOM = b"\xef\xbb\xbf"


def load_sql_csv(
    con: duckdb.DuckDBPyConnection,
    fmt: SqlFormat,
    data: bytes,
    first_line: int,
    tmpdir: Path,
    header: bytes | None,
    max_line_bytes: int = 16 * 1024 * 1024,
) -> BatchResult:
    """``data`` is whole CSV lines; the first batch of a file starts with its header, later
    batches get the file's header passed in ``header``."""
    result = BatchResult()
    tmp = tmpdir / "batch.csv"
    if header is None and data.startswith(BOM):
        data = data[len(BOM) :]  # a byte order mark before the header
    if header is not None:
        header = header.removeprefix(BOM)
    if header is None:
        content, base = data, first_line - 1  # temp line j is file line j + base
    else:
        content, base = header.rstrip(b"\r\n") + b"\n" + data, first_line - 2
    tmp.write_bytes(content)
    head_line = content.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    names = [h.strip().strip('"') for h in head_line.split(",")]
    missing = [r for r in fmt.required_columns if r not in names]
    if missing:
        raise InputError(f"CSV header lacks required column(s) {', '.join(missing)}")
    n_lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE csv_rows AS SELECT * FROM read_csv(?, header=true, "
            "all_varchar=true, delim=',', quote='\"', escape='\"', store_rejects=true, "
            f"max_line_size={int(max_line_bytes)}, strict_mode=true, null_padding=false)",
            [str(tmp)],
        )
    except duckdb.Error as e:
        raise InputError(f"CSV not readable: {str(e).splitlines()[0]}") from None
    rejected: dict[int, tuple[str, str]] = {}
    try:
        for line, etype, msg, raw in con.execute(
            "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
        ).fetchall():
            if int(line) not in rejected:
                rejected[int(line)] = (str(etype), str(msg).split("\n", 1)[0][:200])
                reason = {
                    "TOO MANY COLUMNS": "csv_extra_columns",
                    "MISSING COLUMNS": "csv_missing_columns",
                    "INVALID UNICODE": "invalid_utf8",
                    "INVALID ENCODING": "invalid_utf8",  # DuckDB 2.0's name for it
                    "LINE SIZE OVER MAXIMUM": "line_too_long",
                }.get(str(etype), "csv_unreadable")
                result.quarantine.append(
                    (
                        int(line) + base,
                        reason,
                        rejected[int(line)][1],
                        csv_excerpt(raw or "", names),
                    )
                )
    except duckdb.CatalogException:
        pass
    good_lines = [j for j in range(2, n_lines + 1) if j not in rejected]
    rows = con.execute("SELECT count(*) FROM csv_rows").fetchall()[0]
    count = int(rows[0]) if rows else 0
    if count != len(good_lines):  # quoted fields spanning lines: number rows by record instead
        good_lines = list(range(2, count + 2))
    cur = con.execute("SELECT * FROM csv_rows LIMIT 0")
    have = {d[0] for d in cur.description}
    cur.fetchall()
    cols = ", ".join(
        f"{sql_ident(c)}" if c in have else f"NULL::VARCHAR AS {sql_ident(c)}"
        for c in fmt.read_columns()
    )
    con.register(
        "line_map",
        pa.table({"i": list(range(1, count + 1)), "l": [g + base for g in good_lines[:count]]}),
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE src_data AS SELECT m.l AS source_line, {cols} FROM "
        "(SELECT row_number() OVER () AS i, * FROM csv_rows) r JOIN line_map m USING (i)"
    )
    con.unregister("line_map")
    src_from_data(con)
    fill_cand(con, fmt)
    return result
