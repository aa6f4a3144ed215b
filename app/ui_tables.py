"""Tables as every page shows them: columns labelled and formatted by their names (one format
per kind of figure), as high as their rows, text cells cleaned of unsafe display characters, a
missing money cell told as unpriced or unknown (never $0), each row's link to the request
explorer, and a CSV download of exactly what is shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app import queries, text_safety
from app.queries import Filters
from app.ui_format import MISSING, usd_decimals


def label(col: str) -> str:
    """``cost_per_success_usd`` -> ``Cost per success ($)``; ``latency_n`` -> ``Latency (n)``."""
    words, unit = col.split("_"), ""
    if words[-2:] == ["per", "mtok"]:
        words, unit = words[:-2], " ($/Mtok)"
    elif len(words) > 1 and words[-1] in ("usd", "ms"):
        unit = " ($)" if words.pop() == "usd" else " (ms)"
    words = ["(n)" if w == "n" and len(words) > 1 else w for w in words]
    text = re.sub(r"\bp(\d\d)\b", r"P\1", " ".join(words)).replace("ttft", "TTFT")
    return text[:1].upper() + text[1:] + unit


ROW_PX = 35  # the height of a dataframe row, and of its header, in Streamlit's default theme
TABLE_ROWS = 10  # rows a table shows before it scrolls, unless the page gives another height
WIDE_TABLE = 7  # columns from which the first one stays pinned while the table scrolls sideways
LONG_TEXT = 60  # characters beyond which a text column gets a fixed width instead of its longest
_PERCENT = ("_rate", "_share", "_low", "_high", "_pct", "_coverage")


def is_money(col: str) -> bool:
    return col.endswith(("_usd", "_per_mtok")) or col == "per_request"


def is_percent(col: str) -> bool:
    return col.endswith(_PERCENT) and col != "discount_pct"


def column_config(df: pd.DataFrame) -> dict[str, Any]:
    """Each column formatted by its name and type, one format per kind of figure: dollars at
    the column's one precision (:func:`usd_decimals`), percentages with one decimal,
    milliseconds and counts with separators, UTC times; the first column pinned when the table
    is wide enough to scroll sideways."""
    cfg: dict[str, Any] = {}
    cc = st.column_config
    wide = len(df.columns) >= WIDE_TABLE
    for i, col in enumerate(df.columns):
        name, text = str(col), label(str(col))
        if name == EXPLORE_COLUMN:  # the row's requests in the explorer (:func:`explore_links`)
            cfg[name] = cc.LinkColumn("Requests", display_text="explore", width="small")
            continue
        numeric = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
        if is_money(name):
            cfg[name] = cc.NumberColumn(
                text, format="dollar", step=10.0 ** -usd_decimals(df[col])
            )  # the precision comes from the step: one for the whole column
        elif is_percent(name):
            cfg[name] = cc.NumberColumn(text, format="percent", step=0.001)  # 12.3%
        elif name.endswith("_ms"):
            cfg[name] = cc.NumberColumn(text, format="%,.0f ms")
        elif name == "local_day":
            cfg[name] = cc.DateColumn("Day", format="YYYY-MM-DD")
        elif name.endswith(("_at", "_seen")) or name in (
            "in_force_since",
            "valid_from",
            "valid_to",
        ):
            cfg[name] = cc.DatetimeColumn(text + " (UTC)", format="YYYY-MM-DD HH:mm")
        elif numeric and pd.api.types.is_integer_dtype(df[col]):
            cfg[name] = cc.NumberColumn(text, format="%,d")
        elif numeric:
            cfg[name] = cc.NumberColumn(text, format="localized")
        elif _long_text(df[col]):  # an error or an excerpt: cut in the cell, whole on hover
            cfg[name] = cc.TextColumn(text, width="large")
        else:
            cfg[name] = cc.Column(text, pinned=True if wide and i == 0 else None)
    return cfg


def _long_text(values: pd.Series) -> bool:
    lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
    return bool(len(lengths)) and int(lengths.max()) > LONG_TEXT


def table_height(rows: int, cap: int | None = None) -> int:
    """Pixels for a header and ``rows`` rows, so a short table has no blank rows under it; at
    most ``cap`` (default :data:`TABLE_ROWS` rows), beyond which the table scrolls."""
    fit = ROW_PX * (rows + 1) + 3  # + the border
    return min(fit, cap if cap is not None else ROW_PX * (TABLE_ROWS + 1) + 3)


_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV with log strings neutralised for spreadsheets (a leading = + - @ gets a quote)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_CSV_FORMULA) else v
            )
    return out.to_csv(index=False).encode("utf-8")


def clean_cells(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the unsafe display characters of its text cells (:mod:`app.text_safety`:
    control characters, bidi overrides and marks) replaced by U+FFFD, so a logged name cannot
    reorder or hide what a table row shows; other cells as they are."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: text_safety.clean(v) if isinstance(v, str) else v)
    return out


def _missing_money(col: str) -> str:
    """What a money cell without a value means: a cost per success is unknown (too little of it
    priced), any other amount is unpriced. Never $0."""
    return "unknown" if col.startswith("cost_per") else "unpriced"


def money_gaps(df: pd.DataFrame) -> list[str]:
    """The money columns (``*_usd``) of ``df`` with a missing value."""
    return [str(c) for c in df.columns if str(c).endswith("_usd") and df[c].isna().any()]


def gaps_note(gaps: list[str]) -> str:
    """What a missing money cell means, for the columns ``gaps`` (:func:`money_gaps`)."""
    said = []
    if any(_missing_money(c) != "unknown" for c in gaps):
        said.append("unpriced (none of its attempts has a price)")
    if any(_missing_money(c) == "unknown" for c in gaps):
        said.append("unknown for a cost per success (too little of it priced)")
    return f"{MISSING} in a dollar column: " + "; ".join(said) + ". Never counted as $0."


UNPRICED_OF = {  # a spend column and the count of the attempts it could not price
    "spend_usd": "unpriced_attempts",
    "cost_usd": "unpriced_attempts",
    "spend_on_failures_usd": "unpriced_failed_attempts",
}


def known_spends(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each spend that is $0 beside unpriced attempts made missing, as
    :func:`app.money.known_spend` tells it: $0 plus an unknown amount is unknown."""
    out = df.copy()
    for spend, unpriced in UNPRICED_OF.items():
        if spend in out.columns and unpriced in out.columns:
            unknown = (out[spend].astype(float) == 0) & (out[unpriced].fillna(0) > 0)
            out[spend] = out[spend].astype(float).mask(unknown)
    return out


def _no_negative_zero(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every float -0.0 made 0.0 (so no cell reads "-0.0%" or "-$0.00"); any other
    value, NaN included, as it is."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col] + 0.0  # -0.0 + 0.0 == 0.0; every other value unchanged
    return out


EXPLORE_COLUMN = "explore"


def explore_links(
    df: pd.DataFrame, f: Filters, row_params: Callable[[pd.Series], dict[str, Any] | None]
) -> pd.DataFrame:
    """``df`` with an :data:`EXPLORE_COLUMN`: each row's link to the request explorer on the
    sidebar's filters ``f`` narrowed by ``row_params(row)`` (explorer_params' keywords; None:
    no link). :func:`table` shows it as a link column and leaves it out of the CSV."""
    links = []
    for _, row in df.iterrows():
        params = row_params(row)
        links.append(None if params is None else queries.explorer_url(f, **params))
    return df.assign(**{EXPLORE_COLUMN: links})


def table(df: pd.DataFrame, name: str, *, height: int | str = "auto") -> None:
    """A formatted dataframe (:func:`column_config`) with a CSV download of exactly what is
    shown. It is as high as its rows, up to ``height`` px (``"auto"``: :data:`TABLE_ROWS`
    rows), then scrolls; as wide as the page, and scrolls sideways when its columns are wider.
    A missing value reads :data:`MISSING` (Streamlit shows one text for every missing cell of
    a table, whatever a Styler says); under a table with a money cell missing, a caption says
    it means unpriced (unknown, for a cost per success), and the CSV says which in the cell.
    Never $0, not even for a spend of $0 beside unpriced attempts (:func:`known_spends`)."""
    df = known_spends(_no_negative_zero(clean_cells(df)))
    gaps = money_gaps(df)
    st.dataframe(
        df,
        hide_index=True,
        column_config=column_config(df),
        height=table_height(len(df), height if isinstance(height, int) else None),
        width="stretch",
        placeholder=MISSING,
    )
    if gaps:
        st.caption(gaps_note(gaps))
    csv = df.drop(columns=[EXPLORE_COLUMN], errors="ignore").astype({c: object for c in gaps})
    for c in gaps:
        csv.loc[csv[c].isna(), c] = _missing_money(c)
    st.download_button(
        "Download CSV",
        data=lambda: csv_bytes(csv),
        file_name=f"routeledger-{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        on_click="ignore",
        icon=":material/download:",
    )
