"""Latency: exact P50/P95/P99 and time to first token of successful attempts per day, by model
and task, always with n; the distribution for chosen models."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import drill, queries, ui

GROUPS = {"Model": "model", "Task": "task", "Model · task": "model_task"}
MEASURES = {
    "P50": "p50",
    "P95": "p95",
    "P99": "p99",
    "TTFT P50": "ttft_p50",
    "TTFT P95": "ttft_p95",
}
BINS = 40  # latency histogram bins up to the chosen models' highest P99


def body(ctx: ui.Ctx) -> None:
    assert ctx.filters is not None
    f = ctx.filters
    summary = ui.query(ctx, queries.latency_summary, f)
    if ui.no_rows(summary, "successful attempts"):
        return
    if f.selects_models:
        st.caption(ui.counted(f))

    st.subheader("Over time")
    c1, c2 = st.columns([2, 3])
    by = c1.radio("Group by", list(GROUPS), horizontal=True, key="latency_group") or "Model"
    measure = c2.radio("Measure", list(MEASURES), index=1, horizontal=True, key="latency_measure")
    measure = measure or "P95"
    daily = ui.query(ctx, queries.latency_over_time, f, GROUPS[by], MEASURES[measure])
    ui.chart(
        over_time(ctx, daily, GROUPS[by], by, measure),
        drill=lambda _fig, p: drill.latency_day(f, GROUPS[by], ui.colors(ctx, "model"), p),
        key="latency_over_time",
    )
    st.caption(
        "Exact percentiles (quantile_cont) over successful attempts; the 8 busiest groups. "
        "A day with small n moves a lot: read the n in the hover. Click a point for that "
        "day's successful requests in the request explorer."
    )

    st.subheader("By model and task over the selected days")
    ui.table(
        ui.explore_links(
            summary,
            f,
            lambda r: {
                "provider": r["provider"],
                "model": r["model"],
                "task": r["task"],
                "status": "succeeded",
            },
        ),
        "latency-by-model-task",
    )

    st.subheader("Distribution")
    busiest = summary.groupby("model")["latency_n"].sum().sort_values(ascending=False)
    models = st.multiselect(
        "Models", busiest.index.tolist(), default=busiest.index[:3].tolist(), key="latency_models"
    )
    if not models:
        st.info("Choose at least one model to see its latency distribution.")
        return
    box = ui.query(ctx, queries.latency_box, f, tuple(models))
    upto = float(summary.loc[summary["model"].isin(models), "p99_ms"].max())
    hist = ui.query(ctx, queries.latency_distribution, f, tuple(models), upto, BINS)
    if ui.no_rows(box, "successful attempts of these models"):
        return
    colours = ui.colors(ctx, "model")
    left, right = st.columns(2)
    with left:
        ui.chart(boxes(box, colours))
    with right:
        ui.chart(histogram(hist, colours, width=max(upto, 1.0) / BINS))
    st.caption(
        "Left: quartiles in the box, P5 to P95 in the whiskers. Right: each model's latency "
        "histogram as an outline (so overlapping models stay readable), the last bin holding "
        "everything above the highest P99."
    )
    ui.table(box, "latency-distribution")


def over_time(ctx: ui.Ctx, daily: pd.DataFrame, group: str, by: str, measure: str) -> go.Figure:
    """One line per group; a model keeps its colour on every chart (by model and task: the
    model's colour, one dash per task)."""
    data = ui.safe_cols(daily, "grp")
    dash: str | None = None
    if group == "model_task":
        colours = ui.colors(ctx, "model")
        data["model"] = data["grp"].map(lambda g: drill.model_of(g, colours) or g)
        pairs = zip(data["grp"], data["model"], strict=True)
        data["task"] = [g.removeprefix(m + " · ") for g, m in pairs]
        colour, dash = "model", "task"
    else:
        colours, colour = ui.colors(ctx, group), "grp"
    fig = px.line(
        data,
        x="local_day",
        y="value_ms",
        color=colour,
        line_dash=dash,
        color_discrete_map=colours,
        markers=True,
        custom_data=["n", "grp"],
        labels={"local_day": "", "value_ms": measure, "grp": by, "model": "Model", "task": "Task"},
    )
    tip = f"%{{x|%Y-%m-%d}}: {ui.hover('y', 'ms')} (n={ui.hover('customdata[0]', 'count')})"
    fig.update_traces(hovertemplate=tip)
    return ui.axis(fig, "y", "ms", title=measure)


def boxes(box: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for r in ui.safe_cols(box, "model").itertuples():
        fig.add_trace(
            go.Box(
                x=[r.model],
                name=r.model,
                q1=[r.q1_ms],
                median=[r.median_ms],
                q3=[r.q3_ms],
                lowerfence=[r.p05_ms],
                upperfence=[r.p95_ms],
                marker_color=colours.get(r.model),
            )
        )
    fig.update_layout(showlegend=False)
    return ui.axis(fig, "y", "ms", title="latency (box: quartiles, whiskers: P5-P95)")


def histogram(hist: pd.DataFrame, colours: dict[str, str], width: float) -> go.Figure:
    """Each model's histogram as a step outline over every bin (empty ones at 0), so models
    overlap without blending into one another."""
    fig = go.Figure()
    bins = range(int(hist["bin"].max()) + 1 if len(hist) else 0)
    for model, part in ui.safe_cols(hist, "model").groupby("model", sort=False):
        n = part.set_index("bin")["n"].reindex(bins, fill_value=0)
        edges = [b * width for b in bins]
        fig.add_trace(
            go.Scatter(
                x=[*edges, edges[-1] + width],
                y=[*n.tolist(), n.iloc[-1]],
                name=model,
                mode="lines",
                line={"shape": "hv", "width": 2, "color": colours.get(model)},
                hovertemplate=f"from {ui.hover('x', 'ms')}: {ui.hover('y', 'count')} attempts"
                f"<extra>{model}</extra>",
            )
        )
    ui.axis(fig, "x", "ms", title="latency (last bin: above the highest P99)")
    return ui.axis(fig, "y", "count", title="successful attempts")


ui.page("Latency", body)
