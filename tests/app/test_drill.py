"""From a clicked point to the explorer's parameters (app.drill), one chart at a time: the
figures are built as the pages build them, the points shaped as Streamlit reports a click."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from app import drill, queries
from app import incidents as inc

F = queries.Filters(date(2026, 10, 1), date(2026, 10, 28), teams=("support",))
ZONE = ZoneInfo("Europe/Berlin")
CARRIED = {"since": ["2026-10-01"], "until": ["2026-10-28"], "team": ["support"]}


def stacked() -> go.Figure:
    df = pd.DataFrame(
        {
            "local_day": pd.to_datetime(["2026-10-05", "2026-10-05", "2026-10-06"]),
            "spend_usd": [1.0, 2.0, 3.0],
            "grp": ["openai", "anthropic", "openai"],
        }
    )
    return px.bar(df, x="local_day", y="spend_usd", color="grp")


def storm() -> dict[str, object]:
    return {
        "kind": "rate_limit_storm",
        "provider": None,
        "model": "acme-large",
        "first_day": date(2026, 10, 7),
        "last_day": date(2026, 10, 7),
        "start_at": datetime(2026, 10, 7, 13, 0),  # naive UTC: 15:00 in Berlin
        "end_at": datetime(2026, 10, 7, 14, 0),
        "summary": "12 of 40 attempts rate-limited",
    }


def test_a_bar_is_its_day_and_its_colour_and_keeps_the_sidebar() -> None:
    fig = stacked()
    trace = next(i for i, t in enumerate(fig.data) if t.name == "anthropic")
    point = {"x": "2026-10-05", "y": 2.0, "curve_number": trace, "point_index": 0}
    got = drill.spend(F, "provider", [], ZONE)(fig, point)
    assert got == {**CARRIED, "since": ["2026-10-05"], "until": ["2026-10-05"],
                   "provider": ["anthropic"]}  # fmt: skip
    # a timestamp x (a date axis) is the same day; no point, no requests
    point["x"] = "2026-10-05T00:00:00"
    assert drill.spend(F, "provider", [], ZONE)(fig, point)["since"] == ["2026-10-05"]
    assert drill.spend(F, "provider", [], ZONE)(fig, {"curve_number": trace}) is None


def test_an_incident_marker_is_its_requests() -> None:
    fig = stacked()
    rows = [storm()]
    inc.mark(fig, rows, date(2026, 10, 1), date(2026, 10, 28), ZONE, 3.0, str)
    markers = next(i for i, t in enumerate(fig.data) if t.name == inc.MARKERS)
    got = drill.spend(F, "provider", rows, ZONE)(
        fig, {"x": "2026-10-07 12:00", "y": 3.0, "curve_number": markers, "point_index": 0}
    )
    assert got == {
        **CARRIED,
        "since": ["2026-10-07"],
        "until": ["2026-10-07"],
        "provider": ["(none)"],
        "model": ["acme-large"],
        "error_class": ["rate_limit"],
        "hour": ["15"],
    }
    # a marker the list does not hold opens nothing
    bad = {"curve_number": markers, "point_index": 5}
    assert drill.spend(F, "provider", rows, ZONE)(fig, bad) is None


def test_incident_kinds_narrow_to_what_they_are_about() -> None:
    longer = {**storm(), "end_at": datetime(2026, 10, 7, 19, 0)}
    assert "hour" not in inc.explore(longer, ZONE)  # a storm over hours: its days
    assert inc.explore({**storm(), "kind": "error_spike"}, ZONE)["status"] == "failed"
    assert inc.explore({**storm(), "kind": "p95_regression"}, ZONE)["status"] == "succeeded"
    price = inc.explore({**storm(), "kind": "price_change", "provider": "acme"}, ZONE)
    assert set(price) == {"since", "until", "provider", "model"}


def test_a_mover_is_its_week() -> None:
    got = drill.movers(F, "task", date(2026, 10, 12), date(2026, 10, 18))(
        go.Figure(), {"y": "chat"}
    )
    assert got == {**CARRIED, "since": ["2026-10-12"], "until": ["2026-10-18"], "task": ["chat"]}
    assert drill.movers(F, "task", date(2026, 10, 12), date(2026, 10, 18))(go.Figure(), {}) is None


def test_a_heatmap_cell_is_its_model_provider_and_task() -> None:
    row = "meta-llama/llama-3 · 70b" + drill.HEATMAP_ROW_SEP + "openrouter"  # a name with " · "
    got = drill.heatmap_cell(F, {"x": "summarize", "y": row})
    assert got == {**CARRIED, "task": ["summarize"], "model": ["meta-llama/llama-3 · 70b"],
                   "provider": ["openrouter"]}  # fmt: skip
    assert drill.heatmap_cell(F, {"x": "summarize", "y": "no separator"}) is None


def test_a_request_rate_is_its_days_requests_and_an_attempt_rate_is_none() -> None:
    df = pd.DataFrame(
        {
            "local_day": pd.to_datetime(["2026-10-05"] * 3),
            "value": [0.1, 0.2, 0.3],
            "variable": ["Requests retried", "Requests failed in the end", "Attempts failed"],
        }
    )
    fig = px.line(df, x="local_day", y="value", color="variable")
    names = [t.name for t in fig.data]

    def at(name: str) -> dict[str, list[str]] | None:
        return drill.rate(F, fig, {"x": "2026-10-05", "curve_number": names.index(name)})

    day = {**CARRIED, "since": ["2026-10-05"], "until": ["2026-10-05"]}
    assert at("Requests retried") == {**day, "retried": ["yes"]}
    assert at("Requests failed in the end") == {**day, "status": ["failed"]}
    assert at("Attempts failed") is None


def test_an_error_class_bar_is_its_class_on_its_model() -> None:
    df = pd.DataFrame({"failed_attempts": [4], "error_class": ["rate_limit"], "model": ["gpt-4o"]})
    fig = px.bar(df, x="failed_attempts", y="error_class", color="model", orientation="h")
    got = drill.error_class(F, fig, {"x": 4, "y": "rate_limit", "curve_number": 0})
    assert got == {**CARRIED, "error_class": ["rate_limit"], "model": ["gpt-4o"]}


def test_a_latency_point_is_that_days_successful_requests_of_its_group() -> None:
    models = {"gpt-4o": "#000", "gpt-4o-mini": "#111"}
    point = {"x": "2026-10-05", "customdata": [120, "gpt-4o-mini · summarize"]}
    got = drill.latency_day(F, "model_task", models, point)
    assert got == {**CARRIED, "since": ["2026-10-05"], "until": ["2026-10-05"],
                   "status": ["succeeded"], "model": ["gpt-4o-mini"], "task": ["summarize"]}  # fmt: skip
    got = drill.latency_day(F, "task", models, {"x": "2026-10-05", "customdata": [3, "chat"]})
    assert got is not None and got["task"] == ["chat"]
    assert drill.latency_day(F, "model", models, {"x": "2026-10-05"}) is None


def test_a_time_bucket_is_its_day_or_its_hour_on_a_short_range() -> None:
    assert drill.bucket(F)(go.Figure(), {"x": "2026-10-05"}) == {
        **CARRIED,
        "since": ["2026-10-05"],
        "until": ["2026-10-05"],
    }
    short = queries.Filters(date(2026, 10, 4), date(2026, 10, 5))
    got = drill.bucket(short)(go.Figure(), {"x": "2026-10-05 14:00"})
    assert got == {"since": ["2026-10-05"], "until": ["2026-10-05"], "hour": ["14"]}
    assert drill.bucket(F)(go.Figure(), {"y": 3}) is None


def test_a_category_bar_is_its_group_and_a_missing_name_is_none() -> None:
    assert drill.category(F, "model")(go.Figure(), {"y": "gpt-4o", "x": 10}) == {
        **CARRIED,
        "model": ["gpt-4o"],
    }
    assert drill.category(F, "model")(go.Figure(), {"y": drill.MISSING}) is None
