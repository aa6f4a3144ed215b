"""DuckDB warehouse -> a ClickHouse database (base tables as Arrow), and the comparison of one
relation on both engines: same rows by key, money exactly, floats to 1e-9 relative, NULLs."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from collectors.warehouse.clickhouse import apply
from collectors.warehouse.migrate import TABLE_LAYERS, SqlFile, sql_files

WINDOW = ("2000-01-01", "2100-01-01")  # table macros are compared over every day


def copy_tables(duck: duckdb.DuckDBPyConnection, client: Any) -> dict[str, int]:
    """Create the generated tables in the client's database and copy every base table's rows
    into them as Arrow; the rows copied per table."""
    counts = {}
    for f in sql_files():
        if f.layer not in TABLE_LAYERS:
            continue
        apply.run_file(client, f)
        table = duck.sql(f"SELECT * FROM {f.name}").to_arrow_table()
        counts[f.name] = table.num_rows
        if table.num_rows:
            client.insert_arrow(f.name, table)
    return counts


def relation_sql(f: SqlFile, engine: str, window: tuple[str, str] = WINDOW) -> str:
    """The relation read whole (a table macro over ``window``), in ``engine``'s syntax."""
    if f.macro_params is None:
        return f"SELECT * FROM {f.name}"
    since, until = window
    if engine == "duckdb":
        return f"SELECT * FROM {f.name}('{since}', '{until}')"
    return f"SELECT * FROM {f.name}(since='{since}', until='{until}')"


_KEY_RE = re.compile(r"^--\s*key:\s*([a-z_, ]+)$", re.MULTILINE)


def key_columns(f: SqlFile, columns: list[str]) -> list[str]:
    """The relation's ``-- key:`` columns (all columns when it declares none)."""
    m = _KEY_RE.search(f.text[:2000])
    keys = [k.strip() for k in m.group(1).split(",")] if m else []
    return [k for k in keys if k in columns] or columns


def normal(v: Any) -> Any:
    """A value as both engines' drivers can agree on it: UTC-naive datetimes, times of day,
    lists for arrays and tuples."""
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, timedelta):
        return (datetime.min + v).time()
    if isinstance(v, (list, tuple)):
        return [normal(x) for x in v]
    if isinstance(v, dict):
        return [normal(x) for x in v.values()]
    return v


def _sort_key(row: dict[str, Any], keys: list[str]) -> tuple[Any, ...]:
    return tuple((row[k] is None, repr(row[k])) for k in keys) + (repr(sorted(row.items())),)


def same(a: Any, b: Any) -> bool:
    """Equal as the parity asks: Decimal exactly (against a DuckDB DOUBLE, to 1e-9 relative),
    floats to 1e-9 relative, NULL only to NULL."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, (float, Decimal)) or isinstance(b, (float, Decimal)):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def rows(columns: list[str], data: list[Any], keys: list[str]) -> list[dict[str, Any]]:
    out = [dict(zip(columns, (normal(v) for v in r), strict=True)) for r in data]
    return sorted(out, key=lambda r: _sort_key(r, keys))


def differences(
    f: SqlFile,
    duck: duckdb.DuckDBPyConnection,
    client: Any,
    limit: int = 5,
    window: tuple[str, str] = WINDOW,
) -> list[str]:
    """How the relation differs between DuckDB and ClickHouse (empty: at parity)."""
    d = duck.execute(relation_sql(f, "duckdb", window))
    d_cols = [c[0] for c in d.description]
    d_rows = d.fetchall()
    ch_sql = relation_sql(f, "clickhouse", window)
    c = client.query(ch_sql, settings=apply.SETTINGS)
    c_cols = list(c.column_names) or [  # no rows: no names either
        r[0] for r in client.query(f"DESCRIBE ({ch_sql})", settings=apply.SETTINGS).result_rows
    ]
    if sorted(d_cols) != sorted(c_cols):
        return [f"columns: duckdb {d_cols} != clickhouse {c_cols}"]
    keys = key_columns(f, d_cols)
    left, right = rows(d_cols, d_rows, keys), rows(c_cols, c.result_rows, keys)
    if len(left) != len(right):
        return [f"row count: duckdb {len(left)} != clickhouse {len(right)}"]
    out = []
    for a, b in zip(left, right, strict=True):
        if [a[k] for k in keys] != [b[k] for k in keys] and not all(same(a[k], b[k]) for k in keys):
            out.append(f"keys: duckdb {[a[k] for k in keys]} != clickhouse {[b[k] for k in keys]}")
        else:
            bad = [col for col in d_cols if not same(a[col], b[col])]
            out += [f"{[a[k] for k in keys]}.{col}: duckdb {a[col]!r} != clickhouse {b[col]!r}"
                    for col in bad]  # fmt: skip
        if len(out) >= limit:
            break
    return out


# -- results of the app's query functions (tests/clickhouse/test_app_queries.py) --


def plain(v: Any) -> Any:
    """A result as plain values: a frame as its columns, dtype kinds and rows; NaN/NaT as None."""
    if isinstance(v, pd.DataFrame):
        # the kind of dtype: datetime, bool, number, object (DuckDB's HUGEINT sums are floats in
        # a frame, ClickHouse's Int64 sums integers: both numbers)
        kinds = [dt.kind if dt.kind in "MbO" else "n" for dt in v.dtypes]
        data = [[plain(x) for x in r] for r in v.astype(object).itertuples(index=False)]
        return {"columns": list(v.columns), "kinds": kinds, "rows": data}
    if isinstance(v, pd.Series):
        return {k: plain(x) for k, x in v.items()}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return {k: plain(x) for k, x in zip(v._fields, v, strict=True)}
    if isinstance(v, np.ndarray):
        return [plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return plain(v.item())
    if v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, dict):
        return {repr(k): plain(x) for k, x in sorted(v.items(), key=lambda kv: repr(kv[0]))}
    if isinstance(v, set):
        return sorted(plain(x) for x in v)
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return normal(v)


def result_differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two plain results differ (empty: the same, as :func:`same` compares values)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in result_differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in result_differences(x, y, f"{where}[{i}]")
        ]
    return [] if same(a, b) else [f"{where}: duckdb {a!r} != clickhouse {b!r}"]


def sorted_rows(v: Any) -> Any:
    """Rows (of a list, or of each variant's frame) in the order of their values (floats to 9
    significant digits, so the 1e-9 tolerance does not reorder them)."""

    def key(row: Any) -> str:
        items = row.items() if isinstance(row, dict) else enumerate(row)
        return repr([(k, f"{x:.9g}" if isinstance(x, float) else x) for k, x in items])

    if isinstance(v, dict) and "rows" in v:
        return {**v, "rows": sorted(v["rows"], key=key)}
    return sorted(v, key=key) if isinstance(v, list) else v


def empty(v: Any) -> bool:
    """Whether a plain result holds nothing: no rows, None, False or 0 everywhere."""
    if isinstance(v, dict) and "rows" in v:
        return not v["rows"]
    if isinstance(v, dict):
        return all(empty(x) for x in v.values())
    if isinstance(v, list):
        return all(empty(x) for x in v)
    return v is None or v is False or v == 0
