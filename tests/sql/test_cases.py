"""SQL given/expect cases: tests/sql/cases/<view>/<case>/given/<table>.csv are loaded into a fresh
warehouse (missing columns get neutral defaults), the marts are rebuilt, and the rows of
``query.sql`` (default: ``SELECT * FROM <view>``) must equal ``expect.csv`` on the columns it
names (numbers to 1e-9 relative; an empty cell means NULL). Rows are compared in order when
query.sql orders them, else sorted."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import duckdb
import pytest

from collectors.warehouse import Warehouse, configure
from collectors.warehouse.marts import rebuild_materialized

CASES = Path(__file__).parent / "cases"

DEFAULTS = {
    "raw_attempts": {
        "load_id": "'given'",
        "source": "'given'",
        "source_file": "'given.csv'",
        "source_line": "row_number() OVER ()",
        "logical_request_id": "attempt_id",
        "served_model": "'m'",
        "status": "'success'",
        "input_includes_cached": "true",
        "output_includes_reasoning": "true",
        "gateway_cache_hit": "false",
        "ingested_at": "TIMESTAMP '2026-01-01'",
        "ended_at": "started_at + INTERVAL 1 SECOND",
        "latency_ms": "date_diff('microsecond', started_at::TIMESTAMP, coalesce(ended_at::TIMESTAMP, started_at::TIMESTAMP + INTERVAL 1 SECOND)) / 1000.0",
    },
    "price_versions": {
        "source": "'litellm'",
        "source_rank": "4",
        "variant": "'standard'",
        "tier_min_prompt_tokens": "0",
        "weekdays_only": "false",
        "valid_from": "TIMESTAMP '1970-01-01'",
    },
    "model_matches": {
        "match_rule": "'exact'",
        "reason": "'given'",
        "matched_at": "TIMESTAMP '2026-01-01'",
    },
}


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if p.is_dir())


def load_given(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
    types = {c[0]: c[1] for c in con.execute(f"DESCRIBE {table}").fetchall()}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE given AS SELECT * FROM read_csv(?, header=true, all_varchar=true)",
        [str(path)],
    )
    have = {c[0] for c in con.execute("DESCRIBE given").fetchall()}
    unknown = have - set(cols)
    assert not unknown, f"{path}: columns not in {table}: {unknown}"
    defaults = DEFAULTS.get(table, {})
    exprs = []
    for c in cols:
        if c in have:
            exprs.append(c)
        elif c in defaults:
            exprs.append(f"CAST({defaults[c]} AS {types[c]}) AS {c}")
        else:
            exprs.append(f"NULL::{types[c]} AS {c}")
    # defaults may refer to given columns (ended_at from started_at): expose them typed first
    typed = ", ".join(f"CAST(nullif({c}, '') AS {types[c]}) AS {c}" for c in have)
    con.execute(f"INSERT INTO {table} SELECT {', '.join(exprs)} FROM (SELECT {typed} FROM given)")


def _same(got: object, want: str) -> bool:
    if want == "":
        return got is None
    if got is None:
        return False
    try:
        g, w = float(got), float(want)  # type: ignore[arg-type]
        return math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return str(got) == want


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sql_case(case: Path, tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.migrate()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    configure(con)
    try:
        for given in sorted((case / "given").glob("*.csv")):
            load_given(con, given.stem, given)
        rebuild_materialized(con)
        query = (
            (case / "query.sql").read_text()
            if (case / "query.sql").exists()
            else f"SELECT * FROM {case.parent.name}"
        )
        cur = con.execute(query)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    with open(case / "expect.csv", newline="") as f:
        expect = list(csv.DictReader(f))
    assert expect, "expect.csv has no rows"
    cols = list(expect[0].keys())
    missing = set(cols) - set(names)
    assert not missing, f"query has no column(s) {missing}"
    if "order by" not in query.lower():
        key = lambda r: tuple("" if r[c] is None else str(r[c]) for c in cols)  # noqa: E731
        rows.sort(key=key)
        expect.sort(key=lambda r: tuple(r[c] for c in cols))
    assert len(rows) == len(expect), f"{len(rows)} rows, expected {len(expect)}: {rows}"
    for i, (g, w) in enumerate(zip(rows, expect, strict=True)):
        for c in cols:
            assert _same(g[c], w[c]), f"row {i} column {c}: got {g[c]!r}, expected {w[c]!r}"
