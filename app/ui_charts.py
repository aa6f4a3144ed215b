"""Charts as every page draws them: axes labelled as one kind of figure, the height, legend and
hover labels every chart shares, a click on a point that opens the request explorer, one colour
per model (provider, task, team) on every page, and time buckets drawn across their local hour
or day."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from plotly import colors as _plotly_colors

from app import drill as drill_mod
from app import queries
from app.queries import Filters
from app.ui_format import KINDS, safe
from app.ui_page import Ctx, query
from collectors.errors import RouteLedgerError
from collectors.records import PRICE_SOURCES

# Tick labels per kind: d3 formats with separators and trailing zeros trimmed, never an SI
# suffix (plotly's default writes $0.0004 as "400μ" and 11,812 ms as "11.812k").
AXIS_FORMATS: dict[str, dict[str, str]] = {
    "usd": {"tickprefix": "$", "tickformat": ",~r"},
    "ms": {"ticksuffix": " ms", "tickformat": ",~r"},
    "pct": {"tickformat": ".1~%"},
    "count": {"tickformat": ",~r"},
}


def axis(fig: go.Figure, which: str, kind: str, title: str | None = None) -> go.Figure:
    """``fig``'s x or y axes (every facet's) labelled as one kind of figure; ``title`` names
    them (the unit is in the tick labels)."""
    if kind not in AXIS_FORMATS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    opts: dict[str, Any] = {**AXIS_FORMATS[kind], "exponentformat": "none"}
    if title is not None:
        opts["title_text"] = title
    (fig.update_xaxes if which == "x" else fig.update_yaxes)(**opts)
    return fig


_NOT_CARTESIAN = ("sankey", "pie", "table", "indicator", "parcats", "sunburst", "treemap")


def chart(
    fig: go.Figure,
    height: int = 380,
    *,
    drill: drill_mod.Drill | None = None,
    key: str | None = None,
) -> None:
    """``fig`` as every page draws it: its height, a legend above it, full names in hover
    labels, and numbers on its axes with separators and never an SI suffix (an axis of one kind
    of figure is labelled by :func:`axis`). With ``drill`` (and a ``key``), a click on a point
    opens the request explorer on the requests behind it: ``drill(fig, point)`` gives the
    explorer's parameters (:func:`app.queries.explorer_params`), None for none."""
    if fig.data and not any(t.type in _NOT_CARTESIAN for t in fig.data):
        fig.update_xaxes(exponentformat="none", separatethousands=True)
        fig.update_yaxes(exponentformat="none", separatethousands=True)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hoverlabel={"namelength": -1},
    )
    if drill is None:
        st.plotly_chart(fig, config={"displaylogo": False})
        return
    event = st.plotly_chart(
        fig,
        config={"displaylogo": False},
        key=key,
        on_select="rerun",
        selection_mode="points",
    )
    points = event.selection.points if event is not None else []
    if points:
        go_explore(drill(fig, points[0]))


def go_explore(params: dict[str, list[str]] | None) -> None:
    """Open the request explorer on ``params`` (:func:`app.queries.explorer_params`); nothing
    when there are none (a point that stands for no requests)."""
    if params:
        st.switch_page(queries.EXPLORER_PAGE, query_params=params)


# -- colours --------------------------------------------------------------------------------------

# Distinct hues first (D3's ten), then Dark24 and Light24 without repeats: 50-odd colours before
# any is reused, so 11 models never share one. "(other)" and "(none)" are grey everywhere.
PALETTE: tuple[str, ...] = tuple(
    dict.fromkeys(
        c.upper()
        for c in (
            "#1F77B4 #FF7F0E #2CA02C #D62728 #9467BD #8C564B #E377C2 #BCBD22 #17BECF #7F7F7F".split()
            + list(_plotly_colors.qualitative.Dark24)
            + list(_plotly_colors.qualitative.Light24)
        )
    )
)
GREY = "#B0B0B0"
COLOR_KINDS = {"model": "models", "provider": "providers", "task": "tasks", "team": "teams"}


def colors(ctx: Ctx, kind: str = "model") -> dict[str, str]:
    """One colour per model (or provider, task, team) on every chart of every page: each name's
    place in the warehouse's whole list of that kind (busiest first, whatever the filters), so a
    model keeps its colour when filters or pages change; price sources (``"source"``) by their
    precedence. Keys are the names as charts label them (:func:`safe`), values hex colours;
    pass it as plotly's ``color_discrete_map``."""
    if kind == "source":  # price sources: a fixed list, in precedence order
        names: list[str] = list(PRICE_SOURCES)
    elif kind not in COLOR_KINDS:
        raise ValueError(f"kind must be one of {', '.join(COLOR_KINDS)}, source, got {kind!r}")
    else:
        try:
            names = query(ctx, queries.filter_options)[COLOR_KINDS[kind]] if ctx.cfg else []
        except RouteLedgerError:
            names = []
    out = {safe(str(n)): PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    for grey in (queries.OTHER_LABEL, queries.NONE_LABEL):
        out[safe(grey)] = GREY
    return out


# -- what the explorer and the tokens page share -------------------------------------------------


def time_axis(fig: go.Figure, f: Filters) -> go.Figure:
    """Each bucket drawn across its local hour or day (hours on a range of
    :data:`app.queries.HOURLY_MAX_DAYS` days or less), and a daily axis labelled by day."""
    hour_ms, day_ms = 3_600_000, 86_400_000
    hourly = queries.hourly(f)
    fig.update_traces(xperiod=hour_ms if hourly else day_ms, xperiodalignment="middle")
    if not hourly:
        days = (f.until - f.since).days + 1
        fig.update_xaxes(
            tickformat="%b %d", dtick=day_ms * max(1, math.ceil(days / 14)), ticklabelmode="period"
        )
    return fig
