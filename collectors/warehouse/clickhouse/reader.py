"""A DuckDB connection look-alike that reads a ClickHouse warehouse: the app's query functions
(``app/queries.py``, the tuner's, the report's) run on it unchanged.

``Reader(client).execute(sql, params)`` takes the DuckDB SQL the app writes (``?`` or ``$name``
parameters) and returns a cursor with ``fetchall``, ``fetchone``, ``description`` and ``df``, as
DuckDB's Python types (Decimal money, dates, naive UTC datetimes, lists, dicts for structs, None
for NULL). The SQL is transpiled with the generator's rules (:mod:`.dialect`): scalar macros of
``sql/macros`` inlined, a mart's table macro called as its parameterized view
(``task_stats(since='..', until='..')``), the temporary table macros a caller defines
(``CREATE OR REPLACE TEMP MACRO rl_f_spend(..) AS TABLE ..``: kept by the reader, no SQL runs)
inlined as subqueries, DuckDB's catalog functions (``duckdb_tables()``, ``duckdb_views()``) read
from ``system.tables`` of the client's database. Values are bound into the parsed tree as typed
literals (:mod:`.bind`), never formatted into the text; the parsed tree is cached per SQL text
(a bounded LRU) and the rules run on the bound copy (a bound time zone or NULL list decides how;
the result is kept for the same values too). Anything but a query is refused: it never writes.
Every query runs with :data:`apply.SETTINGS` (and ``group_by_use_nulls``: a GROUPING SETS total
row has NULL keys, as in DuckDB).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from collectors.errors import WarehouseError
from collectors.warehouse.clickhouse import apply, bind, dialect, shapes, values
from collectors.warehouse.migrate import sql_files

if TYPE_CHECKING:
    import pandas as pd

SETTINGS: dict[str, Any] = {**apply.SETTINGS, "group_by_use_nulls": 1}
_TEMP_MACRO = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+MACRO\s+(\w+)\s*\(([^)]*)\)\s+AS\s+"
    r"(TABLE\s+)?(.*)$",
    re.S | re.I,
)
# DuckDB's catalog functions the app reads, over the client's database ($rl_database, bound).
_CATALOG = {
    "duckdb_tables": "SELECT 'main' AS schema_name, name AS table_name FROM system.tables "
    "WHERE database = $rl_database AND engine NOT IN ('View', 'MaterializedView')",
    "duckdb_views": "SELECT 'main' AS schema_name, name AS view_name FROM system.tables "
    "WHERE database = $rl_database AND engine IN ('View', 'MaterializedView')",
}
_LIST_COLUMNS = (
    "SELECT DISTINCT name FROM system.columns WHERE database = currentDatabase() "
    "AND type LIKE 'Array(%'"
)


@dataclass(frozen=True)
class TableMacro:
    params: tuple[str, ...]
    body: exp.Expr
    text: str  # as defined: the same definition again changes nothing (the cache stays valid)


class Cursor:
    """One query's result, as a DuckDB cursor gives it."""

    def __init__(self, names: list[str], types: list[str], data: list[tuple[Any, ...]]) -> None:
        self.names, self.types, self.rows = names, types, data
        self.description = [
            (n, t, None, None, None, None, None) for n, t in zip(names, types, strict=True)
        ]
        self._next = 0

    def fetchall(self) -> list[tuple[Any, ...]]:
        out, self._next = self.rows[self._next :], len(self.rows)
        return out

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self.rows):
            return None
        self._next += 1
        return self.rows[self._next - 1]

    def df(self) -> pd.DataFrame:
        return frame(self.names, self.types, self.rows[self._next :])

    def close(self) -> None:
        self.rows = []


class Reader:
    """Reads the warehouse in the client's database as the app reads DuckDB (see the module)."""

    def __init__(self, client: Any, cache_size: int = 256) -> None:
        self.client = client
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int], exp.Expr] = OrderedDict()
        self._bound: OrderedDict[tuple[str, int, str], exp.Expr] = OrderedDict()
        self._session: dict[str, TableMacro] = {}
        self._session_version = 0
        self._macros: dict[str, dialect.Macro] | None = None
        self._views: dict[str, tuple[str, ...]] = {}
        self._lists: set[str] | None = None
        self._last: Cursor | None = None

    # -- the DuckDB connection's surface ------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        try:
            macro = _TEMP_MACRO.match(sql)
            if macro:
                self._define(*macro.groups())
                self._last = Cursor([], [], [])
                return self._last
            self._last = self._run(self._tree(sql, params))
            return self._last
        except WarehouseError:
            raise
        except Exception as e:  # sqlglot's, the binding's, the driver's and chdb's errors
            raise WarehouseError(f"query {_start(sql)!r}: {_one_line(str(e))}") from e

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._last.fetchall() if self._last else []

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._last.fetchone() if self._last else None

    def df(self) -> pd.DataFrame:
        if self._last is None:
            raise WarehouseError("df(): no query was executed")
        return self._last.df()

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        return self._last.description if self._last else None

    def close(self) -> None:
        self._last = None
        self._session.clear()

    # -- transpiling --------------------------------------------------------------------------

    def transpile(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> str:
        """The ClickHouse SQL that runs for DuckDB's ``sql`` and ``params``."""
        return self._tree(sql, params).sql(dialect="clickhouse", comments=False)

    def _tree(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> exp.Expr:
        tree, n = self._template(sql)
        given = bind.values_by_name(params, n)
        database = self.client.database or "default"
        values = {**given, "rl_database": database}
        # the rules run on the bound tree (a bound zone or NULL decides them): the result is kept
        # for the same values too (a page drawn again), keyed by their types and reprs
        key = (sql, self._session_version, repr(sorted((k, type(v), v) for k, v in values.items())))
        done = self._bound.get(key)
        if done is not None:
            self._bound.move_to_end(key)
            return done
        tree = bind.bind(tree, values)
        for rule in self._rules():
            tree = rule(tree)
        self._bound[key] = tree
        while len(self._bound) > self.cache_size:
            self._bound.popitem(last=False)
        return tree

    def _template(self, sql: str) -> tuple[exp.Expr, int]:
        """``sql`` parsed, its ``?`` numbered, macros inlined (cached per text and session)."""
        key = (sql, self._session_version)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached, cached.meta["rl_positional"]
        text, n = bind.number_placeholders(sql)
        tree = sqlglot.parse_one(text, read="duckdb")
        if not isinstance(tree, exp.Query):
            raise ValueError(f"the reader runs queries only, not {type(tree).__name__.upper()}")
        tree = self._inline_tables(tree)
        tree = dialect.inline_macros(tree, self._scalar_macros())
        tree.meta["rl_positional"] = n
        self._cache[key] = tree
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return tree, n

    def _define(self, name: str, params: str, table: str | None, body: str) -> None:
        names = tuple(p.strip() for p in params.split(",") if p.strip())
        if not table:
            raise ValueError(f"temporary scalar macro {name}: only table macros are supported")
        known = self._session.get(name.lower())
        if known is not None and (known.params, known.text) == (names, body):
            return  # the app defines its macros before every query
        tree = sqlglot.parse_one(body, read="duckdb")
        self._session[name.lower()] = TableMacro(names, tree, body)
        self._session_version += 1

    def _inline_tables(self, tree: exp.Expr) -> exp.Expr:
        """Session table macros and catalog functions -> subqueries; a mart's table macro -> its
        parameterized view's call (named arguments, bound as text later)."""
        views = self._table_views()

        def swap(node: exp.Expr) -> exp.Expr:
            if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Anonymous):
                return node
            call = node.this
            name = call.name.lower()
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
            if name in _CATALOG:
                body = sqlglot.parse_one(_CATALOG[name], read="duckdb")
                return exp.Subquery(this=body, alias=alias.copy())
            macro = self._session.get(name)
            if macro is not None:
                args = dict(zip(macro.params, call.expressions, strict=True))

                def put(n: exp.Expr) -> exp.Expr:
                    if isinstance(n, exp.Column) and not n.table and n.name in args:
                        return exp.Paren(this=args[n.name].copy())
                    return n

                body = self._inline_tables(macro.body.copy().transform(put))
                return exp.Subquery(this=body, alias=alias.copy())
            if name in views:
                named = [
                    exp.EQ(this=exp.column(p), expression=a.copy())
                    for p, a in zip(views[name], call.expressions, strict=True)
                ]
                node.set("this", exp.Anonymous(this=name, expressions=named))
            return node

        return tree.transform(swap)

    def _rules(self) -> tuple[shapes.Rule, ...]:
        return (
            shapes.group_by_all,  # on DuckDB's tree: it knows which functions aggregate
            shapes.ordered_string_aggs,
            shapes.array_overlaps,
            shapes.zipped_unnests,
            values.modes,
            values.money_coalesce,
            *dialect.rules(self._list_columns()),
            values.view_arguments(set(self._table_views())),
            values.half_away_rounding,
            values.boolean_projections,
        )

    def _scalar_macros(self) -> dict[str, dialect.Macro]:
        if self._macros is None:
            self._macros = {}
            for f in sql_files():
                if f.layer == "macros":
                    m = dialect.macro_definition(f.text)
                    self._macros[m.name] = m
                elif f.macro_params is not None:
                    params = (p.strip() for p in f.macro_params.split(","))
                    self._views[f.name] = tuple(p for p in params if p)
        return self._macros

    def _table_views(self) -> dict[str, tuple[str, ...]]:
        self._scalar_macros()
        return self._views

    def _list_columns(self) -> set[str]:
        if self._lists is None:
            result = self.client.query(_LIST_COLUMNS, settings=SETTINGS)
            self._lists = {r[0] for r in result.result_rows}
        return self._lists

    # -- running ------------------------------------------------------------------------------

    def _run(self, tree: exp.Expr) -> Cursor:
        result = self.client.query(
            tree.sql(dialect="clickhouse", comments=False), settings=SETTINGS
        )
        names = list(result.column_names)
        types = [t.name for t in result.column_types]
        if not names:  # no rows: chdb gives no names either
            describe = exp.Describe(this=exp.Subquery(this=tree.copy())).sql(dialect="clickhouse")
            described = self.client.query(describe, settings=SETTINGS).result_rows
            names, types = [r[0] for r in described], [r[1] for r in described]
        data = [
            tuple(_value(v, t) for v, t in zip(row, types, strict=True))
            for row in result.result_rows
        ]
        return Cursor(names, types, data)


def _value(v: Any, kind: str) -> Any:
    """A driver's value as DuckDB's Python type: naive UTC datetimes, dicts for named tuples."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, (list, tuple)):
        inner = _inner(kind)
        if isinstance(v, tuple) and inner.names:
            return {n: _value(x, t) for n, x, t in zip(inner.names, v, inner.types, strict=True)}
        return [_value(x, inner.types[0] if inner.types else "") for x in v]
    if isinstance(v, dict):
        return {k: _value(x, "") for k, x in v.items()}
    return v


@dataclass(frozen=True)
class _Inner:
    names: tuple[str, ...]
    types: tuple[str, ...]


def _inner(kind: str) -> _Inner:
    """The element types of ``Array(T)`` or ``Tuple(a T, b U)`` (names for a named tuple)."""
    kind = _unwrap(kind)
    m = re.fullmatch(r"(Array|Tuple)\((.*)\)", kind)
    if not m:
        return _Inner((), ())
    parts = _split(m.group(2))
    if m.group(1) == "Array":
        return _Inner((), (parts[0],))
    named = [re.fullmatch(r"(\w+) (.+)", p) for p in parts]
    if all(named):
        return _Inner(tuple(x.group(1) for x in named if x), tuple(x.group(2) for x in named if x))
    return _Inner((), tuple(parts))


def _unwrap(kind: str) -> str:
    m = re.fullmatch(r"(?:Nullable|LowCardinality)\((.*)\)", kind)
    return _unwrap(m.group(1)) if m else kind


def _split(args: str) -> list[str]:
    """Top-level comma-separated parts of a type's arguments."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(args):
        depth += c == "("
        depth -= c == ")"
        if c == "," and depth == 0:
            out.append(args[start:i].strip())
            start = i + 1
    out.append(args[start:].strip())
    return out


def _arrow(kind: str) -> Any:
    """The Arrow type DuckDB reads as the type it would have given the column."""
    import pyarrow as pa  # noqa: PLC0415

    kind = _unwrap(kind)
    simple = {
        "Date32": pa.date32(), "Date": pa.date32(), "Float64": pa.float64(),
        "Float32": pa.float32(), "String": pa.string(), "Bool": pa.bool_(),
        "Int8": pa.int8(), "Int16": pa.int16(), "Int32": pa.int32(), "Int64": pa.int64(),
        "UInt8": pa.int64(), "UInt16": pa.int64(), "UInt32": pa.int64(), "UInt64": pa.int64(),
        "Nothing": pa.null(),
    }  # fmt: skip
    if kind in simple:
        return simple[kind]
    if kind.startswith(("DateTime64", "DateTime")):
        return pa.timestamp("us")
    if kind.startswith("Time64"):
        return pa.time64("us")
    m = re.fullmatch(r"Decimal\((\d+), (\d+)\)", kind)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        return pa.decimal128(p, s) if p <= 38 else pa.decimal256(p, s)
    inner = _inner(kind)
    if kind.startswith("Array("):
        return pa.list_(_arrow(inner.types[0]))
    if kind.startswith("Tuple(") and inner.names:
        return pa.struct([(n, _arrow(t)) for n, t in zip(inner.names, inner.types, strict=True)])
    return None  # inferred from the values


def frame(names: list[str], types: list[str], data: list[tuple[Any, ...]]) -> pd.DataFrame:
    """The rows as DuckDB's ``df()`` gives them (its dtypes: made by DuckDB from Arrow)."""
    import duckdb  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415

    columns = list(zip(*data, strict=True)) if data else [() for _ in names]
    arrays = [pa.array(list(c), type=_arrow(t)) for c, t in zip(columns, types, strict=True)]
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(names))])
    with duckdb.connect() as con:
        df = con.from_arrow(table).df()
    df.columns = names
    return df


def _start(sql: str) -> str:
    """The first words of a query (how an error names it)."""
    text = " ".join(sql.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(message: str) -> str:
    first = " ".join(message.strip().split("\n")[0].split())
    return first[:300]
