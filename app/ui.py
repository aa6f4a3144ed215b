"""What every dashboard page shares: the sidebar filters, cached queries, formatting, tables with
a CSV download, charts, empty states and error rendering. Pages, the entry point and the tests
use it as ``from app import ui`` and ``ui.<name>``; each name lives in the module of its concern:

- :mod:`app.ui_page`: the page frame: :class:`Ctx`, :func:`page`, the cached :func:`query`,
  empty states and one-line errors;
- :mod:`app.ui_access`: who may change things, and whether the page is inside another's frame;
- :mod:`app.ui_filters`: the sidebar filters, their date presets and URL, the Count control;
- :mod:`app.ui_format`: figures and log strings as the screen writes them;
- :mod:`app.ui_tables`: tables and their CSV downloads;
- :mod:`app.ui_charts`: charts, their axes and colours.

Strings from logs, price pages and manifests are data: they reach the screen only through
dataframes, ``st.text``, plotly labels escaped with :func:`safe` and, where Streamlit reads a
label as Markdown (an expander's), escaped with :func:`md_text`; never as live Markdown or HTML.

A test that replaces a name the kit itself calls patches the module whose code calls it
(``app.ui_filters.query`` for the sidebar's, ``app.ui_access.request_headers``), not this one.
"""

from __future__ import annotations

import streamlit as st  # noqa: F401  (tests patch Streamlit through it: ui.st)

from app.ui_access import (
    FRAME_PROBE_KEY,
    FRAMED_MESSAGE,
    SIGNED_IN_KEY,
    TOP_LEVEL_KEY,
    exposed,
    may_act,
    not_framed,
)
from app.ui_charts import GREY, PALETTE, axis, chart, colors, time_axis
from app.ui_filters import (
    CUSTOM,
    DATES_KEY,
    GRAIN_KEY,
    GRAIN_WIDGET_KEY,
    PRESET_KEY,
    URL_KEYS,
    URL_PARAMS,
    count_control,
    counted,
    date_presets,
    days_in_month,
    month_start,
    prev_month_start,
    selected,
    sidebar,
    week_start,
)
from app.ui_format import (
    MISSING,
    count,
    counts_of,
    hover,
    md_text,
    missing,
    money_metric,
    money_ticks,
    ms,
    pct,
    safe,
    safe_cols,
    share,
    tick_usd,
    usd,
    usd_column,
    usd_decimals,
)
from app.ui_page import (
    CACHE_TTL_SECONDS,
    EMPTY_HELP,
    LOCK_TIMEOUT_SECONDS,
    Ctx,
    no_rows,
    one_line,
    page,
    query,
    warehouse_stamp,
)
from app.ui_tables import (
    EXPLORE_COLUMN,
    ROW_PX,
    TABLE_ROWS,
    clean_cells,
    column_config,
    explore_links,
    gaps_note,
    known_spends,
    money_gaps,
    table,
    table_height,
)

__all__ = [
    # the page frame
    "CACHE_TTL_SECONDS",
    "EMPTY_HELP",
    "LOCK_TIMEOUT_SECONDS",
    "Ctx",
    "no_rows",
    "one_line",
    "page",
    "query",
    "warehouse_stamp",
    # who may change things
    "FRAME_PROBE_KEY",
    "FRAMED_MESSAGE",
    "SIGNED_IN_KEY",
    "TOP_LEVEL_KEY",
    "exposed",
    "may_act",
    "not_framed",
    # the sidebar filters
    "CUSTOM",
    "DATES_KEY",
    "GRAIN_KEY",
    "GRAIN_WIDGET_KEY",
    "PRESET_KEY",
    "URL_KEYS",
    "URL_PARAMS",
    "count_control",
    "counted",
    "date_presets",
    "days_in_month",
    "month_start",
    "prev_month_start",
    "selected",
    "sidebar",
    "week_start",
    # formatting
    "MISSING",
    "count",
    "counts_of",
    "hover",
    "md_text",
    "missing",
    "money_metric",
    "money_ticks",
    "ms",
    "pct",
    "safe",
    "safe_cols",
    "share",
    "tick_usd",
    "usd",
    "usd_column",
    "usd_decimals",
    # tables
    "EXPLORE_COLUMN",
    "ROW_PX",
    "TABLE_ROWS",
    "clean_cells",
    "column_config",
    "explore_links",
    "gaps_note",
    "known_spends",
    "money_gaps",
    "table",
    "table_height",
    # charts
    "GREY",
    "PALETTE",
    "axis",
    "chart",
    "colors",
    "time_axis",
]
