"""Reliability: error, retry and fallback rates per day, error classes, fallback flows from the
first model to the final one, and the money spent on attempts that failed."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import queries, ui

RATES = {
    "error_rate": "Attempts failed",
    "retry_rate": "Requests retried",
    "fallback_rate": "Requests fell back",
    "request_failure_rate": "Requests failed in the end",
}


def sankey(flows: pd.DataFrame) -> go.Figure:
    firsts = ui.safe(flows["first_model"]).tolist()
    finals = ui.safe(flows["final_model"]).tolist()
    left, right = sorted(set(firsts)), sorted(set(finals))
    return go.Figure(
        go.Sankey(
            node={
                "label": [f"{m} (first)" for m in left] + [f"{m} (final)" for m in right],
                "pad": 18,
            },
            link={
                "source": [left.index(m) for m in firsts],
                "target": [len(left) + right.index(m) for m in finals],
                "value": flows["requests"].tolist(),
                "customdata": flows["succeeded"].tolist(),
                "color": "rgba(120, 120, 120, 0.25)",
                "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} requests, "
                "%{customdata:,} succeeded<extra></extra>",
            },
        )
    )


def body(ctx: ui.Ctx) -> None:
    assert ctx.filters is not None
    f = ctx.filters
    daily = ui.query(ctx, queries.reliability_by_day, f)
    if ui.no_rows(daily, "attempts"):
        return
    failed = ui.query(ctx, queries.failed_spend, f)
    att, bad = daily["attempts"].sum(), daily["failed_attempts"].sum()
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Attempts failed",
        ui.pct(bad / att if att else None),
        f"{bad:,} of {att:,}",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    c2.metric(
        "Spent on failed attempts",
        ui.usd(failed["spend_on_failures_usd"].sum()),
        delta_color="off",
        border=True,
        help="Cost of attempts that returned an error or failed validation.",
    )
    reqs = daily["requests"].sum()
    retried = (daily["retry_rate"] * daily["requests"]).sum()
    c3.metric("Requests retried", ui.pct(retried / reqs if reqs else None), border=True)

    st.subheader("Rates per day")
    long = daily.melt(id_vars=["local_day", "attempts", "requests"], value_vars=list(RATES))
    long["variable"] = long["variable"].map(RATES)
    long["n"] = long["requests"].where(long["variable"] != RATES["error_rate"], long["attempts"])
    fig = px.line(
        long,
        x="local_day",
        y="value",
        color="variable",
        markers=True,
        custom_data=["n"],
        labels={"local_day": "", "value": "share", "variable": ""},
    )
    fig.update_traces(hovertemplate="%{x|%Y-%m-%d}: %{y:.1%} (n=%{customdata[0]:,})")
    fig.update_layout(yaxis_tickformat=".0%")
    ui.chart(fig)

    left, right = st.columns(2)
    with left:
        st.subheader("Error classes")
        errors = ui.query(ctx, queries.error_classes, f)
        if not ui.no_rows(errors, "failed attempts"):
            fig = px.bar(
                ui.safe_cols(errors, "model"),
                x="failed_attempts",
                y="error_class",
                color="model",
                orientation="h",
                labels={"failed_attempts": "failed attempts", "error_class": ""},
            )
            fig.update_layout(yaxis={"categoryorder": "total ascending"})
            ui.chart(fig)
            ui.table(errors, "error-classes")
    with right:
        st.subheader("Fallbacks: first model → final model")
        flows = ui.query(ctx, queries.fallback_flows, f)
        if not ui.no_rows(flows, "requests that fell back"):
            ui.chart(sankey(flows))
            ui.table(flows, "fallback-flows")

    st.subheader("Money spent on failed attempts, per model")
    if not ui.no_rows(failed, "failed attempts"):
        ui.table(failed, "failed-spend")


ui.page("Reliability", body)
