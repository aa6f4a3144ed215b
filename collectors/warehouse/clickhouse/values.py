"""Rewrite rules for scalar values (with :mod:`.dialect`; the generator's and the reader's): time
zones, intervals and RANGE frames, globs, text formats, casts, exact money, mode, rounding,
booleans; and the tree helpers every rule uses.
Each rule takes a DuckDB tree (sqlglot) and returns it ready for ClickHouse."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import sqlglot
from sqlglot import exp

# Money columns by name (prices DECIMAL(18,6), costs DECIMAL(24,12), bills DECIMAL(18,9)): an
# arithmetic literal beside one becomes an exact Decimal instead of a Float64.
_MONEY = re.compile(r"(_per_mtok|^per_request$|^per_image$|^discount_pct$|_usd$|_cost$|^diff$)")

# The one time zone that is not a literal in sql/: the configured calendar's. ClickHouse wants
# a constant zone; a scalar subquery is folded to one before the query runs.
_CALENDAR_TZ = "(SELECT timezone FROM stg_config__calendar)"

_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}

_CAST_TYPES = {
    exp.DataType.Type.TIMESTAMP: "DateTime64(6, 'UTC')",
    exp.DataType.Type.TIMESTAMPNTZ: "DateTime64(6, 'UTC')",
    exp.DataType.Type.TIME: "Time64(6)",
    exp.DataType.Type.DATE: "Date32",
}


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A ClickHouse function call."""
    return exp.Anonymous(this=name, expressions=list(args))


def ch(sql: str) -> exp.Expr:
    """A ClickHouse expression kept as is through the rest of the rules."""
    return sqlglot.parse_one(sql, read="clickhouse")


def call_name(node: exp.Expr) -> str:
    """The lower-case name of a function sqlglot does not know (DuckDB's own), else ''."""
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def aggregate_filter(node: exp.Expr) -> tuple[exp.Expr, exp.Expr | None]:
    """An aggregate and its FILTER condition (None without one)."""
    if isinstance(node, exp.Filter):
        return node.this, node.expression.this
    return node, None


def epoch_and_intervals(tree: exp.Expr) -> exp.Expr:
    """``epoch_us(t)`` -> ``toUnixTimestamp64Micro``; ``to_days(n)``/``to_hours(n)`` ->
    intervals (sqlglot writes MySQL's TO_DAYS, a day number)."""

    def swap(node: exp.Expr) -> exp.Expr:
        if call_name(node) == "epoch_us":
            return fn("toUnixTimestamp64Micro", node.expressions[0].copy())
        if isinstance(node, exp.ToDays):
            return fn("toIntervalDay", node.this.copy())
        if call_name(node) == "to_hours":
            return fn("toIntervalHour", node.expressions[0].copy())
        return node

    return tree.transform(swap)


def globs(tree: exp.Expr) -> exp.Expr:
    """``x GLOB p`` -> ``match(x, <p as an anchored regular expression>)``: regex characters
    escaped, ``*`` -> ``.*``, ``?`` -> ``.``, ``[...]`` kept."""

    def swap(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Glob):
            return node
        pattern = node.expression.sql("clickhouse")
        regex = (
            "concat('^', replaceRegexpAll(replaceRegexpAll(replaceRegexpAll("
            f"{pattern}, '([.+^$(){{}}|\\\\\\\\])', '\\\\\\\\\\\\1'), '\\\\*', '.*'), '\\\\?', '.'), '$')"
        )
        return ch(f"match({node.this.sql('clickhouse')}, {regex})")

    return tree.transform(swap)


def _is_instant(node: exp.Expr) -> bool:
    """An expression DuckDB types TIMESTAMPTZ: a cast to it, or ``timezone(z, <naive>)``."""
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.TIMESTAMPTZ:
        return True
    return call_name(node) == "timezone" and not _is_instant(node.expressions[1])


def time_zones(tree: exp.Expr) -> exp.Expr:
    """DuckDB's ``timezone(z, t)``: on an instant (TIMESTAMPTZ) the wall-clock time in z, on a
    naive timestamp the instant it is in z. Timestamps are naive UTC DateTime64 on ClickHouse, so
    the first is the instant shifted by z's offset then, the second the wall clock parsed in z;
    ``timezone('UTC', t)`` is t itself. A zone read from a column is the calendar's."""

    def zone(node: exp.Expr) -> str:
        if isinstance(node, exp.Literal):
            return node.sql("clickhouse")
        return _CALENDAR_TZ

    def swap(node: exp.Expr) -> exp.Expr:
        if call_name(node) != "timezone" or len(node.expressions) != 2:
            return node
        z_node, value = node.expressions
        z = zone(z_node)
        inner = value.this if isinstance(value, exp.Cast) and _is_instant(value) else value
        inner = inner.copy().transform(swap)  # a timezone() inside: converted first
        t = inner.sql("clickhouse")
        if z in ("'UTC'", "'utc'"):
            return inner
        if _is_instant(value):
            return ch(f"addSeconds({t}, timeZoneOffset(toTimeZone({t}, {z})))")
        return ch(f"toTimeZone(toDateTime64(toString({t}), 6, {z}), 'UTC')")

    return tree.transform(swap)


def _has_money(node: exp.Expr) -> bool:
    """Whether a money column is in ``node`` (not as a DOUBLE: ``cost_usd::DOUBLE`` is not)."""

    def as_money(c: exp.Expr) -> bool:
        while c is not node and c.parent is not None:
            c = c.parent
            if isinstance(c, exp.Cast) and c.to.this in _FLOATS:
                return False
        return True

    return any(_MONEY.search(c.name) and as_money(c) for c in node.find_all(exp.Column))


_FLOATS = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)


def _decimal(literal: exp.Literal) -> exp.Expr:
    d = Decimal(literal.this)
    scale = max(0, -int(d.as_tuple().exponent))
    return fn("toDecimal128", exp.Literal.string(str(d)), exp.Literal.number(scale))


def exact_money(tree: exp.Expr) -> exp.Expr:
    """Money stays Decimal: a fractional literal beside money (``* 0.000001``, ``0.05 *``) is a
    Decimal128 of its own scale (ClickHouse would make the product Float64), and money
    ``/ 10^k`` is ``* 10^-k`` (ClickHouse's Decimal division keeps the dividend's scale and
    truncates the rest)."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Div) and _has_money(node):
            n = node.expression.this if isinstance(node.expression, exp.Literal) else ""
            if re.fullmatch(r"10*", n):
                scaled = exp.Literal(this=str(Decimal(1).scaleb(-(len(n) - 1))), is_string=False)
                return exp.Mul(this=node.this.copy(), expression=_decimal(scaled))
            return exp.Div(
                this=fn("toFloat64", node.this.copy()),
                expression=fn("toFloat64", node.expression.copy()),
            )
        if isinstance(node, (exp.Mul, exp.Add, exp.Sub, exp.Greatest, exp.Least)):
            if not _has_money(node):
                return node
            for key in ("this", "expression", "expressions"):
                value = node.args.get(key)
                items = value if isinstance(value, list) else [value]
                for item in items:
                    if isinstance(item, exp.Literal) and not item.is_string and "." in item.this:
                        item.replace(_decimal(item))
        return node

    return tree.transform(swap)


def casts(tree: exp.Expr) -> exp.Expr:
    """Casts keep DuckDB's precision: TIMESTAMP is DateTime64(6) (sqlglot writes DateTime,
    whole seconds), TIME Time64(6), DATE Date32 (DuckDB's range), each Nullable."""
    for node in list(tree.find_all(exp.Cast)):
        target = _CAST_TYPES.get(node.to.this)
        if target is not None:
            node.set("to", exp.DataType.build(target, udt=True))
    return tree


def text_formats(tree: exp.Expr) -> exp.Expr:
    """``format('{:,}', n)`` (thousands separators) -> commas put in every three digits from the
    right; ``strftime``'s ``%M`` (minutes) is ClickHouse's ``%i`` (its %M is the month name)."""
    for node in list(tree.find_all(exp.Format)):
        if node.this.this != "{:,}" or len(node.expressions) != 1:
            raise ValueError(f"format({node.this.sql()}, ...): only '{{:,}}' is supported")
        n = node.expressions[0].sql("clickhouse")
        node.replace(
            ch(
                "reverse(replaceRegexpOne(replaceRegexpAll(reverse(toString("
                f"{n})), '(\\\\d{{3}})', '\\\\1,'), ',(-?)$', '\\\\1'))"
            )
        )
    for when in list(tree.find_all(exp.TimeToStr)):
        fmt = when.args["format"]
        when.set("format", exp.Literal.string(fmt.this.replace("%M", "%i")))
    return tree


def range_frames(tree: exp.Expr) -> exp.Expr:
    """``RANGE BETWEEN INTERVAL n unit PRECEDING ...`` over a date or timestamp order: ClickHouse
    has RANGE offsets over numbers only, so the order is ``toUnixTimestamp(k)`` and the offsets
    seconds. A ``CASE`` of ``to_hours``/``to_days`` is one interval of seconds (ClickHouse has
    no common type for two interval kinds)."""
    for spec in list(tree.find_all(exp.WindowSpec)):
        if str(spec.args.get("kind", "")).upper() != "RANGE":
            continue
        bounds = [spec.args.get(k) for k in ("start", "end")]
        if not any(isinstance(b, exp.Interval) for b in bounds):
            continue
        for key, bound in zip(("start", "end"), bounds, strict=True):
            if isinstance(bound, exp.Interval):
                unit = bound.args["unit"].name.upper()
                secs = int(bound.this.this) * _SECONDS[unit]
                spec.set(key, exp.Literal.number(secs))
        owner = spec.parent
        order = owner.args.get("order") if owner is not None else None
        for o in order.expressions if order is not None else []:
            o.set("this", fn("toUnixTimestamp", o.this.copy()))
    for case in list(tree.find_all(exp.Case)):
        branches = [i.args["true"] for i in case.args.get("ifs", [])] + [case.args.get("default")]
        if branches and all(call_name(b) in ("to_hours",) or isinstance(b, exp.ToDays)
                            for b in branches):  # fmt: skip
            for b in branches:
                n = (b.expressions[0] if call_name(b) == "to_hours" else b.this).copy()
                per = 3600 if call_name(b) == "to_hours" else 86400
                b.replace(
                    fn("toIntervalSecond", exp.Mul(this=n, expression=exp.Literal.number(per)))
                )
    return tree


_DATES = ("day", "_week", "_month")  # DATE columns by name: local_day, local_week, ...


def day_differences(tree: exp.Expr) -> exp.Expr:
    """``day_a - day_b`` (DuckDB: days between two DATEs, by the column names: ``*day``,
    ``*_week``, ``*_month``) ->
    ``dateDiff('day', day_b, day_a)`` (ClickHouse does not subtract Date32s)."""
    for node in list(tree.find_all(exp.Sub)):
        sides = (node.this, node.expression)
        if all(isinstance(x, exp.Column) and x.name.endswith(_DATES) for x in sides):
            node.replace(fn("dateDiff", exp.Literal.string("day"), sides[1].copy(),
                             sides[0].copy()))  # fmt: skip
    return tree


def view_arguments(views: set[str]) -> Callable[[exp.Expr], exp.Expr]:
    """A parameterized view's named arguments (``task_stats(since = <bound>)``) are text, as its
    ``{since:String}`` parameters: a bound date or timestamp its ISO text, a number its digits."""

    def text(value: exp.Expr) -> exp.Expr:
        if isinstance(value, exp.Anonymous) and value.name in ("toDate32", "toDateTime64"):
            return value.expressions[0].copy()
        if isinstance(value, exp.Literal):
            return exp.Literal.string(value.this)
        if isinstance(value, exp.Boolean):
            return exp.Literal.string("true" if value.this else "false")
        raise ValueError(f"a table macro's argument must be a bound value, got {value.sql()}")

    def rule(tree: exp.Expr) -> exp.Expr:
        for table in tree.find_all(exp.Table):
            call = table.this
            if isinstance(call, exp.Anonymous) and call.name in views:
                for arg in call.expressions:
                    if isinstance(arg, exp.EQ):
                        arg.set("expression", text(arg.expression))
        return tree

    return rule


def money_coalesce(tree: exp.Expr) -> exp.Expr:
    """``coalesce(a, b)`` of two money columns or more (DECIMALs of other scales: a cost's 12, a
    bill's 9) -> each a ``Decimal(38, 12)``, DuckDB's common type (ClickHouse has none)."""
    for node in list(tree.find_all(exp.Coalesce)):
        args = [node.this, *node.expressions]
        money = [a for a in args if isinstance(a, exp.Column) and _MONEY.search(a.name)]
        if len(money) >= 2:
            for a in money:
                a.replace(fn("toDecimal128", a.copy(), exp.Literal.number(12)))
    return tree


def half_away_rounding(tree: exp.Expr) -> exp.Expr:
    """``round(x)`` of a DOUBLE rounds a half away from zero in DuckDB, to even in ClickHouse:
    ``sign(x) * floor(abs(x) + 0.5)`` (money, a DECIMAL, rounds away in both and is kept)."""
    for node in list(tree.find_all(exp.Round)):
        if node.args.get("decimals") is None and not _has_money(node.this):
            x = node.this.sql("clickhouse")
            node.replace(ch(f"sign({x}) * floor(abs({x}) + 0.5)"))
    return tree


def modes(tree: exp.Expr) -> exp.Expr:
    """``mode(x)`` (the most frequent non-NULL value, NULL over none) -> the key of the largest
    count of ``sumMap`` (keys sorted, so a tie goes to the smallest value)."""

    def swap(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Mode):
            return node
        x = node.this.sql("clickhouse")
        counts = f"sumMapIf([assumeNotNull({x})], [toUInt64(1)], ({x}) IS NOT NULL)"
        return ch(
            f"if(empty(({counts}).1), NULL, "
            f"({counts}).1[indexOf(({counts}).2, arrayMax(({counts}).2))])"
        )

    return tree.transform(swap)


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not,
                exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.NullSafeEQ)  # fmt: skip


def boolean_projections(tree: exp.Expr) -> exp.Expr:
    """A projected comparison (``grouping(t) = 1 AS is_total``) is BOOLEAN in DuckDB, UInt8 in
    ClickHouse: ``toBool(..)``."""
    for select in list(tree.find_all(exp.Select)):
        for e in select.expressions:
            inner = e.this if isinstance(e, exp.Alias) else e
            if isinstance(inner, _COMPARISONS):
                inner.replace(fn("toBool", inner.copy()))
    return tree
