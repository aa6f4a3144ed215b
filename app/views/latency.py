"""Latency: exact P50/P95/P99 and time to first token of successful attempts per day, by model
and task, always with n; the distribution for chosen models."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import queries, ui

GROUPS = {"Model": "model", "Task": "task", "Model · task": "model_task"}
MEASURES = {
    "P50": "p50",
    "P95": "p95",
    "P99": "p99",
    "TTFT P50": "ttft_p50",
    "TTFT P95": "ttft_p95",
}


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
    fig = px.line(
        ui.safe_cols(daily, "grp"),
        x="local_day",
        y="value_ms",
        color="grp",
        markers=True,
        custom_data=["n"],
        labels={"local_day": "", "value_ms": f"{measure} (ms)", "grp": by},
    )
    fig.update_traces(hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f} ms (n=%{customdata[0]:,})")
    ui.chart(fig)
    st.caption(
        "Exact percentiles (quantile_cont) over successful attempts; the 8 busiest groups. "
        "A day with small n moves a lot: read the n in the hover."
    )

    st.subheader("By model and task over the selected days")
    ui.table(summary, "latency-by-model-task")

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
    hist = ui.query(ctx, queries.latency_distribution, f, tuple(models), upto)
    if ui.no_rows(box, "successful attempts of these models"):
        return
    colours = dict(zip(ui.safe(box["model"]), px.colors.qualitative.Plotly * 4, strict=False))
    left, right = st.columns(2)
    with left:
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
                    marker_color=colours[r.model],
                )
            )
        fig.update_layout(showlegend=False, yaxis_title="ms (box: quartiles, whiskers: P5-P95)")
        ui.chart(fig)
    with right:
        fig = px.bar(
            ui.safe_cols(hist, "model"),
            x="from_ms",
            y="n",
            color="model",
            barmode="overlay",
            opacity=0.6,
            color_discrete_map=colours,
            labels={"from_ms": "latency from (ms); last bar: above P99", "n": "attempts"},
        )
        fig.update_traces(hovertemplate="from %{x:,.0f} ms: %{y:,} attempts")
        ui.chart(fig)
    ui.table(box, "latency-distribution")


ui.page("Latency", body)
