"""From a chart's point to the requests behind it: the request explorer's parameters
(:func:`app.queries.explorer_params`) for a point a person clicked.

:func:`app.ui.chart` with ``drill=`` hands a drill function the figure and the selected point as
Streamlit gives it (``x``, ``y``, ``curve_number``, ``point_index``, ``customdata``); each
function here reads what its chart puts where and returns None for a point that stands for no
requests. Pure functions, so each page's mapping is tested without a browser
(tests/app/test_drill.py); the click itself is tested in Chromium (tests/browser)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from app import incidents as inc
from app import queries

Params = dict[str, list[str]]
Drill = Callable[[go.Figure, dict[str, Any]], "Params | None"]
MISSING = "—"  # what a chart and a table show for a missing value (app.ui.MISSING)


def trace_name(fig: go.Figure, point: Mapping[str, Any]) -> str | None:
    """The name of the trace a selected point belongs to: the group a colour stands for."""
    i = point.get("curve_number")
    if i is None or not 0 <= int(i) < len(fig.data):
        return None
    name = fig.data[int(i)].name
    return None if name in (None, "", MISSING) else str(name)


def point_day(point: Mapping[str, Any], axis: str = "x") -> date | None:
    """The local day a selected point stands at (its ``x``: a date or a timestamp)."""
    v = point.get(axis)
    if v is None or isinstance(v, bool):
        return None
    try:
        return pd.Timestamp(v).date()
    except (TypeError, ValueError):
        return None


def point_index(point: Mapping[str, Any]) -> int | None:
    i = point.get("point_index", point.get("point_number"))
    return None if i is None else int(i)


def spend(f: queries.Filters, group: str, incidents: list[dict[str, Any]], zone: ZoneInfo) -> Drill:
    """The Overview's spend chart: a bar is that day's requests of its ``group`` (provider,
    model, task or team: the bar's colour); an incident's triangle (the trace
    :data:`app.incidents.MARKERS`, one point per incident in ``incidents``' order) is its
    requests (:func:`app.incidents.explore`)."""

    def drill(fig: go.Figure, point: dict[str, Any]) -> Params | None:
        name = trace_name(fig, point)
        if name == inc.MARKERS:
            i = point_index(point)
            if i is None or not 0 <= i < len(incidents):
                return None
            return queries.explorer_params(f, **inc.explore(incidents[i], zone))
        day = point_day(point)
        if day is None:
            return None
        return queries.explorer_params(f, day=day, **({group: name} if name else {}))

    return drill


def movers(f: queries.Filters, group: str, since: date, until: date) -> Drill:
    """A top mover's bar (its name on the y axis): its requests over the week compared."""

    def drill(_fig: go.Figure, point: dict[str, Any]) -> Params | None:
        name = point.get("y")
        if not isinstance(name, str) or not name:
            return None
        return queries.explorer_params(f, since=since, until=until, **{group: name})

    return drill


HEATMAP_ROW_SEP = " · "  # a cost heatmap row: "model · provider"


def heatmap_cell(f: queries.Filters, point: Mapping[str, Any]) -> Params | None:
    """A cell of the Cost page's heatmap: its task (x) and its row's model and provider (y,
    ``model · provider``)."""
    task, row = point.get("x"), point.get("y")
    if not isinstance(task, str) or not isinstance(row, str) or HEATMAP_ROW_SEP not in row:
        return None
    model, provider = row.rsplit(HEATMAP_ROW_SEP, 1)
    return queries.explorer_params(f, task=task, model=model, provider=provider)


# a request rate's line (its legend name) -> the explorer's narrowing for those requests. Attempt
# rates have none: the explorer lists requests, and a failed attempt's requests are the error
# classes' bars.
RATE_REQUESTS = {
    "Requests retried": {"retried": "yes"},
    "Requests fell back": {"fell_back": "yes"},
    "Requests failed in the end": {"status": "failed"},
}


def rate(f: queries.Filters, fig: go.Figure, point: Mapping[str, Any]) -> Params | None:
    """A point on the Reliability page's request rates: the requests it counts, of its local
    day, or of its local hour when the chart is hourly (:func:`app.queries.hourly`)."""
    narrowing, day = RATE_REQUESTS.get(trace_name(fig, point) or ""), point_day(point)
    if narrowing is None or day is None:
        return None
    if queries.hourly(f):
        narrowing = {**narrowing, "hour": pd.Timestamp(point["x"]).hour}
    return queries.explorer_params(f, day=day, **narrowing)


def error_class(f: queries.Filters, fig: go.Figure, point: Mapping[str, Any]) -> Params | None:
    """A bar of the error classes (class on the y axis, model by colour): the requests with a
    failed attempt of that class on that model."""
    cls, model = point.get("y"), trace_name(fig, point)
    if not isinstance(cls, str) or not cls or model is None:
        return None
    return queries.explorer_params(f, error_class=cls, model=model)


def model_of(group: str, models: Mapping[str, Any]) -> str | None:
    """The model of a "model · task" group: the longest known model name it starts with."""
    found = [m for m in models if group.startswith(m + " · ")]
    return max(found, key=len) if found else None


def latency_day(
    f: queries.Filters, group: str, models: Mapping[str, Any], point: Mapping[str, Any]
) -> Params | None:
    """A point on a latency line (its group in ``customdata[1]``): that day's successful
    requests of its model, task or both (``model_task``: the model among ``models``)."""
    day, data = point_day(point), point.get("customdata")
    if day is None or not isinstance(data, list | tuple) or len(data) < 2:
        return None
    grp = str(data[1])
    if group == "model_task":
        model = model_of(grp, models)
        if model is None:
            return None
        narrowing = {"model": model, "task": grp.removeprefix(model + " · ")}
    else:
        narrowing = {group: grp}
    return queries.explorer_params(f, day=day, status="succeeded", **narrowing)


def bucket(f: queries.Filters) -> Drill:
    """A bar or point of a chart over time: the requests of its local day, or of its local hour
    when the chart is hourly (:func:`app.queries.hourly`)."""

    def drill(_fig: go.Figure, point: dict[str, Any]) -> Params | None:
        day = point_day(point)
        if day is None:
            return None
        hour = {"hour": pd.Timestamp(point["x"]).hour} if queries.hourly(f) else {}
        return queries.explorer_params(f, day=day, **hour)

    return drill


def category(f: queries.Filters, group: str, axis: str = "y") -> Drill:
    """A bar of a chart by ``group`` (model, task, provider, team: the name on ``axis``): its
    requests."""

    def drill(_fig: go.Figure, point: dict[str, Any]) -> Params | None:
        name = point.get(axis)
        if not isinstance(name, str) or not name or name == MISSING:
            return None
        return queries.explorer_params(f, **{group: name})

    return drill


# an explorer "Spend by" group -> the explorer's narrowing to its requests
SPEND_BY_NARROWING = {
    "key": "key_alias",
    "user": "user",
    "team": "team",
    "task": "task",
    "agent": "agent",
    "conversation": "conversation",
}


def spend_by_row(by: str, name: Any) -> dict[str, Any] | None:
    """The narrowing to a "Spend by" row's requests (``by``: key, user, team or task); None
    where the row names no value the explorer can select (a key without an alias, shown by its
    hash; no user)."""
    if not isinstance(name, str) or (by not in ("team", "task") and name == queries.NONE_LABEL):
        return None
    if by == "key" and name.startswith("key "):
        return None
    return {SPEND_BY_NARROWING[by]: name}
