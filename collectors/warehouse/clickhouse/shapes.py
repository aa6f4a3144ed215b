"""Rewrite rules for the shape of a query (with :mod:`.dialect`; the generator's and the
reader's): aggregates (quantiles, ordered lists, string_agg, median, count's type), lists and
structs, lag/lead, LATERAL VALUES, column names, CTE hints, session variables, a table macro's
parameters; and for the app's queries GROUP BY ALL, ORDER BY aliases, side-by-side unnests."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlglot import exp

from collectors.warehouse.clickhouse.values import aggregate_filter, call_name, ch, fn


def drop_session_variables(tree: exp.Expr) -> exp.Expr:
    """``getvariable('rl_derive_*')`` is unset on ClickHouse (always the full build): ``IS NULL``
    of it is true, and ``true OR x`` is true."""

    def unset(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Is) and call_name(node.this) == "getvariable":
            return exp.true()
        if call_name(node) == "getvariable":
            return exp.null()
        return node

    def fold(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Or) and any(
            isinstance(x, exp.Boolean) and x.this for x in (node.this, node.expression)
        ):
            return exp.true()
        if isinstance(node, exp.Paren) and isinstance(node.this, exp.Boolean):
            return node.this
        return node

    return tree.transform(unset).transform(fold).transform(fold)


def quantiles(tree: exp.Expr) -> exp.Expr:
    """``quantile_cont(x, p)`` (linear interpolation, NULL over no rows) is ClickHouse's
    ``quantileExactInclusive`` (R7) with -OrNull; a list of levels an array of them."""

    def swap(node: exp.Expr) -> exp.Expr:
        agg, cond = aggregate_filter(node)
        if not isinstance(agg, exp.PercentileCont):
            return node
        levels = agg.expression
        args = [agg.this.copy()] + ([cond.copy()] if cond is not None else [])
        name = "quantileExactInclusiveOrNull" + ("If" if cond is not None else "")

        def one(level: exp.Expr) -> exp.Expr:
            return exp.ParameterizedAgg(
                this=name, expressions=[level.copy()], params=[a.copy() for a in args]
            )

        if isinstance(levels, exp.Array):
            return exp.Array(expressions=[one(q) for q in levels.expressions])
        return one(levels)

    return tree.transform(swap)


def ordered_lists(tree: exp.Expr) -> exp.Expr:
    """``list(x ORDER BY k) [FILTER (WHERE c)]`` -> the (k, x) pairs gathered, sorted on k and
    unpaired (groupArray would drop a NULL x); ``list(DISTINCT x ORDER BY x)`` -> the sorted
    distinct values. ClickHouse's empty list where DuckDB has NULL is handled by
    :func:`list_coalesce`."""

    def swap(node: exp.Expr) -> exp.Expr:
        agg, cond = aggregate_filter(node)
        if not isinstance(agg, exp.ArrayAgg) or not isinstance(agg.this, exp.Order):
            return node
        order = agg.this
        value = order.this
        keys = [o.this.copy() for o in order.expressions]
        if isinstance(value, exp.Distinct):
            (only,) = value.expressions
            if [k.sql() for k in keys] != [only.sql()]:
                raise ValueError("list(DISTINCT x ORDER BY y): only ORDER BY x is supported")
            gathered = fn("groupUniqArray" + ("If" if cond else ""), only.copy(), *_cond(cond))
            return fn("arraySort", gathered)
        pair = exp.Tuple(expressions=[exp.Tuple(expressions=keys), value.copy()])
        gathered = fn("groupArray" + ("If" if cond else ""), pair, *_cond(cond))
        desc = {bool(o.args.get("desc")) for o in order.expressions}
        if len(desc) > 1:
            raise ValueError("list(... ORDER BY a, b DESC): one direction for every key")
        sort = "arrayReverseSort" if desc == {True} else "arraySort"
        return ch(f"arrayMap(p -> p.2, {sort}(p -> p.1, {gathered.sql('clickhouse')}))")

    return tree.transform(swap)


def _cond(cond: exp.Expr | None) -> list[exp.Expr]:
    return [cond.copy()] if cond is not None else []


Rule = Callable[[exp.Expr], exp.Expr]


def _matched(column: exp.Column) -> exp.Expr | None:
    """For a column of an outer-joined relation: a column of it the ON clause compares with
    ``=`` (so not NULL when the join matched), else None."""
    select = column.find_ancestor(exp.Select)
    for join in (select.args.get("joins") or []) if select is not None else []:
        if join.alias_or_name != column.table or join.args.get("on") is None:
            continue
        for eq in join.args["on"].find_all(exp.EQ):
            for side in (eq.this, eq.expression):
                if isinstance(side, exp.Column) and side.table == column.table:
                    return side
    return None


def list_coalesce(list_columns: set[str]) -> Rule:
    """``coalesce(<list>, fallback)`` where the list is a list aggregate or a list column
    (``list_columns``: their names in DuckDB's catalog). A ClickHouse array is never NULL, so for
    a column of an outer-joined relation the test is whether the join matched (a column its ON
    compares with ``=``), else whether the list is empty."""

    def swap(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Coalesce) or len(node.expressions) != 1:
            return node
        first, fallback = node.this, node.expressions[0]
        if isinstance(first, exp.Column) and first.name in list_columns:
            key = _matched(first)
            if key is not None:
                return exp.If(
                    this=exp.Is(this=key.copy(), expression=exp.null()),
                    true=fallback.copy(),
                    false=first.copy(),
                )
        elif not isinstance(aggregate_filter(first)[0], exp.ArrayAgg):
            return node
        return exp.If(this=fn("notEmpty", first.copy()), true=first.copy(), false=fallback.copy())

    def rule(tree: exp.Expr) -> exp.Expr:
        return tree.transform(swap)

    return rule


def lag_lead(tree: exp.Expr) -> exp.Expr:
    """``lag``/``lead`` -> ``lagInFrame``/``leadInFrame`` over the whole partition, NULL outside
    it (ClickHouse's default is the type's zero): the value made Nullable, an array excepted
    (ClickHouse has no Nullable array: its empty array stands for NULL). A named window is
    inlined, as the frame must be given."""
    for select in list(tree.find_all(exp.Select)):
        named = {w.name: w for w in select.args.get("windows") or []}
        for win in list(select.find_all(exp.Window)):
            if (
                not isinstance(win.this, (exp.Lag, exp.Lead))
                or win.find_ancestor(exp.Select) is not select
            ):
                continue
            func = win.this
            value = func.this.copy()
            if not isinstance(value, exp.Array):
                value = fn("toNullable", value)
            name = "lagInFrame" if isinstance(func, exp.Lag) else "leadInFrame"
            args = [value, exp.Literal.number(1)] + (
                [] if isinstance(func.this, exp.Array) else [exp.null()]
            )
            base = named.get(win.alias) if win.alias and not win.args.get("partition_by") else None
            spec = base or win
            over = exp.Window(
                this=fn(name, *args),
                partition_by=[p.copy() for p in spec.args.get("partition_by") or []],
                order=spec.args["order"].copy() if spec.args.get("order") else None,
                spec=exp.WindowSpec(
                    kind="ROWS",
                    start="UNBOUNDED",
                    start_side="PRECEDING",
                    end="UNBOUNDED",
                    end_side="FOLLOWING",
                ),
                over="OVER",
            )
            win.replace(over)
    return tree


def string_aggs(tree: exp.Expr) -> exp.Expr:
    """``string_agg(DISTINCT x, sep ORDER BY x)`` -> the sorted distinct values joined."""
    for node in list(tree.find_all(exp.GroupConcat)):
        inner = node.this
        if not (isinstance(inner, exp.Order) and isinstance(inner.this, exp.Distinct)):
            continue
        (value,) = inner.this.expressions
        sep = node.args.get("separator") or exp.Literal.string(",")
        node.replace(
            fn(
                "arrayStringConcat",
                fn("arraySort", fn("groupUniqArray", value.copy())),
                sep.copy(),
            )
        )
    return tree


def lateral_values(tree: exp.Expr) -> exp.Expr:
    """``, LATERAL (VALUES (a1, b1), (a2, b2)) AS c(a, b)`` (an unpivot) -> ``ARRAY JOIN [a1, a2]
    AS a, [b1, b2] AS b``: ClickHouse zips arrays joined together, one row per element."""
    for join in list(tree.find_all(exp.Join)):
        lateral = join.this
        if not (isinstance(lateral, exp.Lateral) and isinstance(lateral.this, exp.Subquery)):
            continue
        values = lateral.this.this
        names = lateral.args["alias"].columns
        if not isinstance(values, exp.Values) or not names:
            continue
        rows = [t.expressions for t in values.expressions]
        arrays = [
            exp.alias_(exp.Array(expressions=[r[i].copy() for r in rows]), n.name)
            for i, n in enumerate(names)
        ]
        join.replace(exp.Join(this=arrays[0], expressions=arrays[1:], kind="ARRAY"))
    return tree


def lists_and_structs(tree: exp.Expr) -> exp.Expr:
    """``{'k': v}`` -> ``tuple(v AS k)`` (a named tuple: the setting
    enable_named_columns_in_function_tuple); ``len(list)`` -> ``length`` (len() in sql/ is on
    lists only); ``array_to_string`` -> ``arrayStringConcat``."""
    for struct in list(tree.find_all(exp.Struct)):
        fields: list[exp.Expr] = [
            exp.alias_(f.expression.copy(), f.this.name) for f in struct.expressions
        ]
        struct.replace(fn("tuple", *fields))
    for length in list(tree.find_all(exp.Length)):
        length.replace(fn("length", length.this.copy()))
    for joined in list(tree.find_all(exp.ArrayToString)):
        joined.replace(fn("arrayStringConcat", joined.this.copy(), joined.expression.copy()))
    return tree


def medians(tree: exp.Expr) -> exp.Expr:
    """``median(x)`` (DuckDB: quantile_cont 0.5, NULL over no rows) -> the exact R7 quantile."""
    for node in list(tree.find_all(exp.Median)):
        node.replace(exp.ParameterizedAgg(
            this="quantileExactInclusiveOrNull", expressions=[exp.Literal.number(0.5)],
            params=[node.this.copy()]))  # fmt: skip
    return tree


def named_columns(tree: exp.Expr) -> exp.Expr:
    """A projected ``t.col`` is named ``col`` (as in DuckDB; ClickHouse may keep ``t.col`` as the
    name in a subquery over a join)."""
    for select in tree.find_all(exp.Select):
        for e in select.expressions:
            if isinstance(e, exp.Column) and e.table and not isinstance(e.this, exp.Star):
                e.replace(exp.alias_(e.copy(), e.name))
    return tree


def typed_aggregates(tree: exp.Expr) -> exp.Expr:
    """``count`` is BIGINT in DuckDB, UInt64 in ClickHouse (no common type with a signed
    integer): ``toInt64(count(..))``; ``bool_or``/``bool_and`` -> ``max``/``min``."""
    for count in list(tree.find_all(exp.Count)):
        outer: exp.Expr = count.parent if isinstance(count.parent, exp.Filter) else count
        if isinstance(outer.parent, exp.Window):
            outer = outer.parent
        outer.replace(fn("toInt64", outer.copy()))
    for logical in list(tree.find_all(exp.LogicalOr, exp.LogicalAnd)):
        name = "max" if isinstance(logical, exp.LogicalOr) else "min"
        logical.replace(fn(name, logical.this.copy()))
    return tree


def plain_ctes(tree: exp.Expr) -> exp.Expr:
    """``AS [NOT] MATERIALIZED`` hints are DuckDB's planner's: dropped."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


# Ledger tables ingest updates by inserting a newer row per key (ReplacingMergeTree,
# collectors.warehouse.clickhouse.load): a view reads them FINAL, one row per key. Tiny tables.
NEWER_ROWS = frozenset({"loads", "file_cursors"})


def _cte_reference(table: exp.Table) -> bool:
    """``table`` names a CTE of an enclosing WITH (and is not inside that CTE's own body)."""
    node: exp.Expr | None = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias_or_name == table.name and not _within(table, cte):
                    return True
        node = node.parent
    return False


def _within(node: exp.Expr, ancestor: exp.Expr) -> bool:
    p: exp.Expr | None = node
    while p is not None:
        if p is ancestor:
            return True
        p = p.parent
    return False


def newer_rows(tree: exp.Expr) -> exp.Expr:
    """The ledger tables of :data:`NEWER_ROWS` read ``FINAL``."""
    for table in list(tree.find_all(exp.Table)):
        if (
            table.name in NEWER_ROWS
            and not table.args.get("db")
            and not isinstance(table.parent, exp.Final)
            and not _cte_reference(table)
        ):
            table.replace(exp.Final(this=table.copy()))
    return tree


def parameters(params: tuple[str, ...]) -> Callable[[exp.Expr], exp.Expr]:
    """A table macro's parameters become a parameterized view's ``{name:String}``."""

    def rule(tree: exp.Expr) -> exp.Expr:
        def swap(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and not node.table and node.name in params:
                return ch(f"{{{node.name}:String}}")
            return node

        return tree.transform(swap)

    return rule


def array_overlaps(tree: exp.Expr) -> exp.Expr:
    """``list_has_any(a, b)`` -> ``hasAny(a, b)`` (sqlglot writes ``a && b``, a logical AND in
    ClickHouse)."""
    for node in list(tree.find_all(exp.ArrayOverlaps)):
        node.replace(fn("hasAny", node.this.copy(), node.expression.copy()))
    return tree


def ordered_string_aggs(tree: exp.Expr) -> exp.Expr:
    """``string_agg(x, sep ORDER BY k)`` -> ``array_to_string(list(x ORDER BY k), sep)``, for
    :func:`ordered_lists` and :func:`lists_and_structs` to write (a DISTINCT one is
    :func:`string_aggs`')."""
    for node in list(tree.find_all(exp.GroupConcat)):
        inner = node.this
        if not isinstance(inner, exp.Order) or isinstance(inner.this, exp.Distinct):
            continue
        sep = node.args.get("separator") or exp.Literal.string(",")
        node.replace(exp.ArrayToString(this=exp.ArrayAgg(this=inner.copy()), expression=sep.copy()))
    return tree


def _aggregates(node: exp.Expr) -> bool:
    """Whether ``node`` holds an aggregate outside a window."""
    return any(a.find_ancestor(exp.Window) is None for a in node.find_all(exp.AggFunc))


def group_by_all(tree: exp.Expr) -> exp.Expr:
    """``GROUP BY ALL`` -> the projections holding no aggregate, as expressions (ClickHouse's
    would group ``coalesce(c, 'x') AS c`` by the column ``c`` under prefer_column_name_to_alias);
    a name in ``ORDER BY`` that is a projection's alias (or in ``HAVING`` an aggregate's) -> its
    expression (DuckDB reads the alias, ClickHouse the column of that name)."""
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if group is not None and group.args.get("all"):
            keys = [e.unalias().copy() for e in select.expressions if not _aggregates(e)]
            select.set("group", exp.Group(expressions=keys) if keys else None)
        for key in ("order", "having"):
            clause = select.args.get(key)
            aliased = {
                e.alias: e.unalias() for e in select.expressions
                if isinstance(e, exp.Alias) and (key == "order" or _aggregates(e))
                and not (isinstance(e.this, exp.Column) and e.this.name == e.alias)
            }  # fmt: skip
            for column in list(clause.find_all(exp.Column)) if clause and aliased else []:
                inside = column.find_ancestor(exp.AggFunc, exp.Select)
                if column.table or column.name not in aliased or isinstance(inside, exp.AggFunc):
                    continue
                column.replace(aliased[column.name].copy())
    return tree


def zipped_unnests(tree: exp.Expr) -> exp.Expr:
    """``SELECT unnest(a) AS x, unnest(b) AS y`` (side by side in DuckDB) -> the elements of
    ``arrayJoin(arrayZip(a, b))`` (two arrayJoins would be their product)."""
    for select in list(tree.find_all(exp.Select)):
        unnests = [e for e in select.expressions if isinstance(e.unalias(), exp.Explode)]
        if len(unnests) < 2:
            continue
        zipped = fn("arrayZip", *[u.unalias().this.copy() for u in unnests])
        for i, u in enumerate(unnests, 1):
            u.unalias().replace(fn("tupleElement", fn("arrayJoin", zipped.copy()),
                                   exp.Literal.number(i)))  # fmt: skip
    return tree


def discrete_quantiles(tree: exp.Expr) -> exp.Expr:
    """``quantile_disc(x, q)`` (a level or a list of them, decimal literals) -> the element of
    the sorted values at DuckDB's index, ``max(1, ceil(n * q))`` counted from 1 in exact integer
    arithmetic (as DuckDB does for a DECIMAL level); NULL over no values (a list of levels: an
    empty array, ClickHouse's NULL array)."""

    def index(level: exp.Expr, n: str) -> str:
        if not isinstance(level, exp.Literal) or level.is_string:
            raise ValueError(f"quantile_disc: the level must be a number, got {level.sql()}")
        d = Decimal(level.this)
        scale = max(0, -int(d.as_tuple().exponent))
        num, den = int(d.scaleb(scale)), 10**scale
        return f"greatest(1, intDiv({n} * {num} + {den - 1}, {den}))"

    def swap(node: exp.Expr) -> exp.Expr:
        agg, cond = aggregate_filter(node)
        if not isinstance(agg, exp.PercentileDisc):
            return node
        x = agg.this.sql("clickhouse")
        suffix, extra = ("If", f", {cond.sql('clickhouse')}") if cond is not None else ("", "")
        values = f"arraySort(groupArray{suffix}({x}{extra}))"
        n = f"count{suffix}({x}{extra})"
        levels = agg.expression
        if isinstance(levels, exp.Array):
            picks = ", ".join(f"{values}[{index(q, n)}]" for q in levels.expressions)
            return ch(f"if({n} = 0, [], [{picks}])")
        return ch(f"if({n} = 0, NULL, {values}[{index(levels, n)}])")

    return tree.transform(swap)
