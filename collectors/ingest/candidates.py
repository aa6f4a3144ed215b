"""Candidate rows: table ``cand``, which every reader fills and
:mod:`collectors.ingest.normalize` reads.

``cand`` is ``source_line`` plus :data:`~collectors.logs.base.CANDIDATE_COLUMNS`, all text. A
reader of a SQL format (:mod:`~collectors.ingest.read_jsonl`, :mod:`~collectors.ingest.read_csv`)
leaves the source rows, numbered, in view ``src``; :func:`fill_cand` projects them through the
format's ``select``. A batch of the stream (:mod:`collectors.ingest.stream`) comes already
projected, as Arrow rows: :func:`load_candidates` puts view ``cand`` over them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from collectors.logs.base import CANDIDATE_COLUMNS, SqlFormat


@dataclass
class BatchResult:
    rows_in: int = 0
    skipped: int = 0
    quarantine: list[tuple[int, str, str, str]] = field(
        default_factory=list
    )  # line, reason, detail, excerpt


# JSON's non-finite literals: DuckDB's reader takes them, Python's (the careful path) refuses them
NONFINITE_COLUMN = "rl_nonfinite"


def nonfinite_sql(columns: Iterable[str] = CANDIDATE_COLUMNS) -> str:
    """SQL true when a candidate column holds a non-finite JSON literal."""
    return "(" + " OR ".join(f"{c} IN ('NaN', 'Infinity', '-Infinity')" for c in columns) + ")"


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


def fill_cand(con: duckdb.DuckDBPyConnection, fmt: SqlFormat) -> None:
    """``src`` (with ``source_line``) -> ``cand`` via the format's select, all columns text."""
    cols = candidate_sql(con, fmt)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cand AS SELECT source_line::BIGINT AS source_line, {cols} FROM fmt_out"
    )


def src_from_data(con: duckdb.DuckDBPyConnection) -> None:
    """``src`` is always a view: over ``src_data`` here, over ``src_rows`` on the fast path."""
    con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM src_data")


def load_candidates(con: duckdb.DuckDBPyConnection, table: pa.Table, first_line: int) -> bool:
    """``cand`` from a batch of the stream (:class:`collectors.ingest.stream.RowStream`): a view
    over its Arrow rows, numbered from ``first_line`` (:func:`release_candidates` drops it after
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
