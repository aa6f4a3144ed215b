"""DuckDB SQL text -> ClickHouse SQL text: sqlglot's transpile plus rewrite rules over the parsed
tree for what it gets wrong (the generator's, and the reader's at run time).

Each rule is one function over the DuckDB tree (:mod:`.shapes`: aggregates, lists, windows,
names; :mod:`.values`: time, money, text), applied before ClickHouse SQL is written
(:func:`rules`, in order); :func:`view_sql` runs them on a view, :func:`macro_definition` reads
a scalar macro so it can be inlined. What no rule fits is an override file
(``sql/clickhouse/overrides/<layer>/<name>.sql``), used verbatim by the generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from collectors.warehouse.clickhouse import shapes, values


@dataclass(frozen=True)
class Macro:
    """A scalar macro of sql/macros: its parameters and body (a DuckDB expression)."""

    name: str
    params: tuple[str, ...]
    body: exp.Expr


def macro_definition(text: str) -> Macro:
    """``CREATE OR REPLACE MACRO name(a, b) AS <expr>`` -> its name, parameters and body."""
    m = re.search(r"CREATE\s+OR\s+REPLACE\s+MACRO\s+(\w+)\s*\(([^)]*)\)\s+AS\s+(.*)", text, re.S)
    if not m:
        raise ValueError("not a scalar macro: CREATE OR REPLACE MACRO name(params) AS expr")
    params = tuple(p.strip() for p in m.group(2).split(",") if p.strip())
    body = sqlglot.parse_one(m.group(3).strip().rstrip(";"), read="duckdb")
    return Macro(m.group(1), params, body)


def inline_macros(tree: exp.Expr, macros: dict[str, Macro]) -> exp.Expr:
    """A call of a scalar macro becomes its body, the parameters replaced by the arguments
    (bodies that call macros are inlined in turn)."""

    def swap(node: exp.Expr) -> exp.Expr:
        macro = macros.get(values.call_name(node))
        if macro is None:
            return node
        args = dict(zip(macro.params, node.expressions, strict=True))

        def bind(n: exp.Expr) -> exp.Expr:
            if isinstance(n, exp.Column) and not n.table and n.name in args:
                return exp.Paren(this=args[n.name].copy())
            return n

        body = macro.body.copy().transform(bind)
        return exp.Paren(this=inline_macros(body, macros))

    return tree.transform(swap)


Describe = Callable[[str], list[str]]


def expand_join_stars(tree: exp.Expr, describe: Describe) -> exp.Expr:
    """``t.*`` in a SELECT over three or more joined relations -> ``t``'s columns by name, as
    DuckDB lists them (``describe``: DuckDB SQL -> its column names). ClickHouse names a column
    ``t.col`` there when another joined relation has a ``col``."""
    with_ = tree.args.get("with_")
    for select in list(tree.find_all(exp.Select)):
        if len(select.args.get("joins") or []) < 2:
            continue
        for star in [e for e in select.expressions if isinstance(e, exp.Column)]:
            if not isinstance(star.this, exp.Star) or star.this.args.get("except_"):
                continue
            probe = select.copy()
            probe.set("expressions", [star.copy()])
            for key in ("group", "having", "qualify", "order", "windows", "limit"):
                probe.set(key, None)
            if with_ is not None and select is not tree:
                probe.set("with_", with_.copy())
            names = describe(probe.sql(dialect="duckdb"))
            columns = [exp.alias_(exp.column(n, table=star.table, quoted=True), n) for n in names]
            index = select.expressions.index(star)
            select.set(
                "expressions",
                select.expressions[:index] + columns + select.expressions[index + 1 :],
            )
    return tree


def rules(list_columns: set[str], params: tuple[str, ...] = ()) -> tuple[shapes.Rule, ...]:
    """The rewrite rules in the order they run (``list_columns``: names of DuckDB's list
    columns; ``params``: a table macro's parameters)."""
    return (
        shapes.drop_session_variables,
        values.casts,
        shapes.lag_lead,
        shapes.string_aggs,
        shapes.lateral_values,
        shapes.lists_and_structs,
        values.text_formats,
        values.range_frames,
        shapes.medians,
        values.day_differences,
        shapes.quantiles,
        shapes.discrete_quantiles,
        shapes.list_coalesce(list_columns),  # before ordered_lists: it reads the list aggregate
        shapes.ordered_lists,
        values.epoch_and_intervals,
        values.globs,
        values.time_zones,
        values.exact_money,
        shapes.typed_aggregates,
        shapes.named_columns,
        shapes.plain_ctes,
        shapes.newer_rows,
        *((shapes.parameters(params),) if params else ()),
    )


def view_sql(
    text: str,
    macros: dict[str, Macro],
    describe: Describe,
    list_columns: set[str],
    params: tuple[str, ...] = (),
    pretty: bool = True,
) -> str:
    """A view's DuckDB SELECT -> the ClickHouse SELECT, every rule applied."""
    tree = sqlglot.parse_one(text, read="duckdb")
    tree = expand_join_stars(tree, describe)
    tree = inline_macros(tree, macros)
    for rule in rules(list_columns, params):
        tree = rule(tree)
    return tree.sql(dialect="clickhouse", pretty=pretty, comments=False)
