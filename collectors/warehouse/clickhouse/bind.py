"""Parameters bound into a parsed query as typed literals (with :mod:`.reader`): never by string
formatting, so a value can hold quotes, backslashes, ``%s`` or ``{x:String}`` and stay a value.

``?`` placeholders are numbered in the order they appear in the text (by sqlglot's tokenizer, so
a ``?`` inside a string or comment is not one), ``$name`` ones keep their name; :func:`bind`
replaces each by the literal of its value, then :func:`fold` drops what a bound NULL decides
(``NULL IS NULL OR list_contains(NULL, x)``: ClickHouse has no NULL array to call ``has`` on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlglot import exp
from sqlglot.tokens import Tokenizer, TokenType

from collectors.warehouse.clickhouse.values import fn

POSITIONAL = "rl_p"  # ``?`` number i becomes the placeholder ``$rl_p<i>``


def number_placeholders(sql: str) -> tuple[str, int]:
    """``sql`` with its i-th ``?`` (a token, not text in a string) written ``$rl_p<i>``, and how
    many there were."""
    from sqlglot.dialects.duckdb import DuckDB

    tokenizer: Tokenizer = DuckDB().tokenizer_class()
    out, last, n = [], 0, 0
    for token in tokenizer.tokenize(sql):
        # ``?::x`` is one token (a try-cast operator elsewhere): its ``?`` is a placeholder
        kind, text = token.token_type, token.text
        if (kind, text) in ((TokenType.PLACEHOLDER, "?"), (TokenType.QDCOLON, "?::")):
            out.append(sql[last : token.start])
            out.append(f"${POSITIONAL}{n}")
            last, n = token.start + 1, n + 1
    out.append(sql[last:])
    return "".join(out), n


def literal(value: Any) -> exp.Expr:
    """A Python value as a ClickHouse literal of DuckDB's type for it."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return fn("toFloat64", exp.Literal.string(repr(value)))
        return exp.Literal.number(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"cannot bind the Decimal {value}")
        scale = max(0, -int(value.as_tuple().exponent))
        return fn("toDecimal128", exp.Literal.string(str(value)), exp.Literal.number(scale))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return fn(
            "toDateTime64",
            exp.Literal.string(value.isoformat(sep=" ")),
            exp.Literal.number(6),
            exp.Literal.string("UTC"),
        )
    if isinstance(value, date):
        return fn("toDate32", exp.Literal.string(value.isoformat()))
    if isinstance(value, time):
        return fn("toTime64", exp.Literal.string(value.isoformat()), exp.Literal.number(6))
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"cannot bind a {type(value).__name__} as a query parameter")


def values_by_name(params: Sequence[Any] | Mapping[str, Any] | None, n: int) -> dict[str, Any]:
    """The values by placeholder name (``rl_p<i>`` for the i-th ``?``)."""
    if params is None:
        params = []
    if isinstance(params, Mapping):
        if n:
            raise ValueError("the query has ? placeholders but the parameters are named")
        return dict(params)
    if len(params) != n:
        raise ValueError(f"the query has {n} ? placeholders, {len(params)} parameters were given")
    return {f"{POSITIONAL}{i}": v for i, v in enumerate(params)}


def bind(tree: exp.Expr, values: Mapping[str, Any]) -> exp.Expr:
    """Every placeholder of ``tree`` replaced by its value's literal (a copy)."""
    missing = {p.name for p in tree.find_all(exp.Placeholder)} - set(values)
    if missing:
        raise ValueError(f"no value for the parameter(s) {', '.join(sorted(missing))}")

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            return literal(values[node.name])
        return node

    return fold(tree.copy().transform(swap))


def _constant(node: exp.Expr) -> bool | None:
    """True/False when ``node`` is a constant truth value, else None."""
    node = node.unnest() if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        value = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        while isinstance(value, exp.Cast):
            value = value.this
        if isinstance(value, exp.Null):
            return True
        if isinstance(value, (exp.Literal, exp.Array, exp.Boolean)) or (
            isinstance(value, exp.Anonymous) and value.name.startswith("to")
        ):
            return False
    if isinstance(node, exp.Not):
        inner = _constant(node.this)
        return None if inner is None else not inner
    return None


def fold(tree: exp.Expr) -> exp.Expr:
    """``x IS NULL`` of a bound value, ``true OR y``, ``false AND y``, ``NOT true`` folded to
    constants (so a branch a NULL list decides is gone before ClickHouse types it)."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, (exp.Or, exp.And)):
            left, right = _constant(node.this), _constant(node.expression)
            absorbing = isinstance(node, exp.Or)
            if left is absorbing or right is absorbing:
                return exp.Boolean(this=absorbing)
            if left is not None:
                return node.expression
            if right is not None:
                return node.this
            return node
        truth = _constant(node)
        if truth is not None and isinstance(node, (exp.Is, exp.Not, exp.Paren)):
            return exp.Boolean(this=truth)
        return node

    for _ in range(32):  # each pass folds one level more (transform visits parents first)
        before = tree.sql()
        tree = tree.transform(swap)
        if tree.sql() == before:
            break
    return tree
