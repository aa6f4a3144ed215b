"""How a dashboard page writes a figure or a logged string: money, shares, milliseconds and
counts (:data:`MISSING` for a missing one, never "None" and never $0 for an unpriced amount),
plotly hover tokens, the ticks of a money colour bar, a money figure for a metric card; log
strings escaped for plotly labels (:func:`safe`) and for Markdown labels (:func:`md_text`)."""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd

from app import drill as drill_mod
from app import money, text_safety

# -- formatting -----------------------------------------------------------------------------------
#
# One format per kind of figure on every page. Money as app.money tells it (precision by
# magnitude), one precision for a whole column (:func:`usd_decimals`); percentages with one
# decimal, never "-0.0%", and a share of nothing as "n/a" with the reason (:func:`share`);
# milliseconds and counts with thousands separators; a missing value as MISSING, never "None".
# Charts use the same kinds: :func:`axis` for tick labels (no SI suffix such as "400μ"),
# :func:`hover` for hover and cell text.

MISSING = drill_mod.MISSING  # "—"
KINDS = ("usd", "ms", "pct", "count")


def missing(v: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):  # a list or an array is a value, not a missing one
        return False


def usd_decimals(values: Any) -> int:
    """The one precision (2, 4 or 6 decimals) of a column of dollar amounts: :func:`app.money.usd`'s
    for its smallest non-zero amount, so no amount of the column reads as $0.00."""
    amounts = [abs(float(v)) for v in values if not missing(v) and float(v) != 0]
    if not amounts:
        return 2
    return len(money.usd(min(amounts)).rpartition(".")[2])  # app.money's tiers, written once


def usd(v: Any, precise: bool = False, decimals: int | None = None) -> str:
    """A known dollar amount as :func:`app.money.usd` tells it (``$1,234.50``, ``$0.0123``,
    ``$0.000120``; ``-$1.50``, never ``$-1.50`` or ``-$0.00``); ``precise`` keeps at least four
    decimals (a unit cost), ``decimals`` fixes them (a column's: :func:`usd_decimals`). MISSING
    when there is no amount: an unpriced one is never $0."""
    if missing(v):
        return MISSING
    x = float(v)
    if decimals is None:
        decimals = usd_decimals([x])
        if precise and x != 0:
            decimals = max(decimals, 4)
    text = f"${abs(x):,.{decimals}f}"
    return "-" + text if x < 0 and round(abs(x), decimals) != 0 else text


def usd_column(values: Any) -> list[str]:
    """Dollar amounts of one column, all at the column's precision (:func:`usd_decimals`)."""
    values = list(values)
    decimals = usd_decimals(values)
    return [usd(v, decimals=decimals) for v in values]


def pct(v: Any, digits: int = 1) -> str:
    """A share as a percentage, ``12.3%``; a share that rounds to zero is ``0.0%``, never
    ``-0.0%``; MISSING when there is none."""
    if missing(v):
        return MISSING
    text = f"{float(v) * 100:.{digits}f}"
    return (f"{0:.{digits}f}" if float(text) == 0 else text) + "%"


def share(part: Any, whole: Any, digits: int = 1, *, of: str = "attempts") -> str:
    """``part`` of ``whole`` as a percentage; ``n/a (no attempts)`` when ``whole`` is nothing,
    never ``0.0%`` of nothing."""
    if missing(whole) or not whole:
        return f"n/a (no {of})"
    return pct(float(part) / float(whole), digits)


def count(v: Any) -> str:
    """A count with thousands separators, ``19,954``; MISSING when there is none."""
    return MISSING if missing(v) else f"{float(v):,.0f}"


def counts_of(part: Any, whole: Any) -> str | None:
    """``12 of 340`` beside a share; None (nothing to show) when ``whole`` is nothing."""
    if missing(whole) or not whole:
        return None
    return f"{count(part)} of {count(whole)}"


def ms(v: Any) -> str:
    """Milliseconds with thousands separators, ``11,812 ms``; MISSING when there are none."""
    return MISSING if missing(v) else f"{float(v):,.0f} ms"


def hover(ref: str, kind: str, decimals: int = 4) -> str:
    """A plotly template token showing ``ref`` (``y``, ``customdata[0]``, ...) as one kind of
    figure: ``hover("y", "ms")`` is ``%{y:,.0f} ms``; money at ``decimals`` (a column's:
    :func:`usd_decimals`)."""
    tokens = {
        "usd": f"$%{{{ref}:,.{decimals}f}}",
        "ms": f"%{{{ref}:,.0f}} ms",
        "pct": f"%{{{ref}:.1%}}",
        "count": f"%{{{ref}:,.0f}}",
    }
    if kind not in tokens:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return tokens[kind]


def money_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Ticks for a log-scale money colour bar between ``low`` and ``high`` dollars (> 0): 1, 2
    and 5 of each decade, as ``(log10 values, labels)`` written as the money axes write them."""
    lo, hi = math.floor(math.log10(low)), math.ceil(math.log10(high))
    values = [m * 10.0**e for e in range(lo, hi + 1) for m in (1, 2, 5)]
    values = [v for v in values if low / 1.001 <= v <= high * 1.001] or [low, high]
    if len(values) > 8:  # a wide span: decades only
        values = [v for v in values if math.log10(v) % 1 == 0] or values[:: len(values) // 4]
    return [math.log10(v) for v in values], [tick_usd(v) for v in values]


def tick_usd(v: float) -> str:
    """A dollar amount as a money axis labels it (:data:`AXIS_FORMATS`): ``$0.0005``, ``$2``,
    ``$1,000``."""
    text = f"{abs(v):,.10f}".rstrip("0").rstrip(".")
    return ("-$" if v < 0 and text != "0" else "$") + text


# -- log strings as labels ------------------------------------------------------------------------


def _plotly_text(value: object) -> str:
    return html.escape(text_safety.clean(value), quote=False)


def safe(values: Any) -> Any:
    """Log strings as plotly labels that show them literally, once. plotly.js reads a label as
    a subset of HTML: tags (``<b>``, ``<a href>``, ``<br>``, ...) and the entities ``&amp;``,
    ``&lt;``, ``&gt;``, a few named ones and numeric ones, decoded once. So ``&``, ``<`` and
    ``>`` are escaped and nothing else: an escaped quote (``&quot;``) is not decoded and would
    show as written. Unsafe display characters (:mod:`app.text_safety`) are replaced."""
    if isinstance(values, pd.Series):
        return values.map(lambda v: _plotly_text(v) if v is not None else v)
    return _plotly_text(values)


_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.I)  # where GFM would link
_ZWSP = "\u200b"


def md_text(value: object) -> str:
    """``value`` as literal text inside Markdown (a label such as an expander's): every ASCII
    punctuation character backslash-escaped, so a name like ``[x](https://...)``, ``**bold**``,
    ``:red[...]`` or ``$x$`` is shown as written, never as a link, style, icon or formula; line
    breaks become spaces. GFM turns a bare ``https://...``, ``www.`` or ``a@b.c`` into a link
    even when escaped, so a zero-width space goes after ``:``, ``www`` and ``@`` there."""
    text = _AUTOLINK.sub(_ZWSP, " ".join(str(value).splitlines()))
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_cols(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = safe(out[c])
    return out


def money_metric(amount: Any, unpriced: Any) -> tuple[str, str]:
    """A money figure for a metric card: its known part as the value and the unpriced attempts
    beside it as a line under it ("$4.28" and "+ 308 unpriced attempts"), so a card never cuts
    it short; "unpriced (N attempts)" when nothing of it is known (never $0)."""
    n = 0 if missing(unpriced) else int(unpriced)
    known = money.known_spend(amount, n)
    if known is None:
        return money.spend_text(amount, n), ""
    more = f"+ {n:,} unpriced attempt{'s' if n != 1 else ''}" if n else ""
    return money.usd(known), more
