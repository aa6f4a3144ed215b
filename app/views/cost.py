"""Cost per success: per task, the cost of a successful logical request (failed attempts and
retries included); per model and task, the cost of a successful attempt.

With a provider or model filter, the task figures are the selected models' own attempts (their
cost over their successful attempts) unless the Count control asks for whole requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import money, queries, ui

HOVER = (
    "attempts",
    "successes",
    "success_rate",
    "success_rate_low",
    "spend_usd",
    "unpriced_attempts",
)


def cell(cost: float, attempts: float, unpriced: float) -> str:
    if np.isnan(attempts):
        return ""
    if unpriced >= attempts:
        return "unpriced"
    return ("-" if np.isnan(cost) else ui.usd(cost, precise=True)) + ("*" if unpriced else "")


def heatmap(df: pd.DataFrame) -> go.Figure:
    """Model x task; colour on a log scale (costs span orders of magnitude), value in the cell.
    A cell whose attempts are all unpriced says so instead of showing $0."""
    df = df.assign(row=df["model"] + " · " + df["provider"])
    rows = df.groupby("row")["spend_usd"].sum().sort_values().index.tolist()
    tasks = sorted(df["task"].unique())
    wide = df.pivot(index="row", columns="task").reindex(index=rows)
    grid = {
        c: wide[c].reindex(columns=tasks).to_numpy(dtype=float)
        for c in (*HOVER, "cost_per_success_usd")
    }
    z = grid["cost_per_success_usd"]
    priced = (grid["unpriced_attempts"] < grid["attempts"]) & (z > 0)
    fig = go.Figure(
        go.Heatmap(
            z=np.log10(np.where(priced, z, np.nan)),
            x=ui.safe(pd.Series(tasks, dtype=object)),
            y=ui.safe(pd.Series(rows, dtype=object)),
            text=np.vectorize(cell)(z, grid["attempts"], grid["unpriced_attempts"]),
            texttemplate="%{text}",
            customdata=np.dstack([grid[c] for c in HOVER]),
            hovertemplate="%{y}<br>%{x}<br>cost per success: %{text}<br>"
            "n = %{customdata[0]:,} attempts, %{customdata[1]:,} succeeded<br>"
            "success rate %{customdata[2]:.1%} (95% low %{customdata[3]:.1%})<br>"
            "spend $%{customdata[4]:,.4f}; %{customdata[5]:,} attempts unpriced<extra></extra>",
            colorscale="YlOrRd",
            showscale=False,
        )
    )
    fig.update_layout(xaxis_side="top")
    return fig


def body(ctx: ui.Ctx) -> None:
    assert ctx.filters is not None
    f = ui.count_control(ctx)
    if f.per_attempt:
        found = ui.query(ctx, queries.task_attempt_cost, f, True)
        if ui.no_rows(found, "attempts"):
            return
        tasks, total = queries.split_total(found)
        attempt_headline(total)
        st.subheader("Per task: cost per successful attempt of the selected models")
        st.caption(
            ui.counted(f) + " Cost per success = their cost over their successful attempts; "
            "retry share = the share of them followed by another attempt; latency over the "
            "successful ones."
        )
    else:
        found = ui.query(ctx, queries.task_cost, f, True)
        if ui.no_rows(found, "logical requests"):
            return
        tasks, total = queries.split_total(found)
        request_headline(total)
        st.subheader("Per task: cost per successful logical request")
        if f.selects_models:
            st.caption(ui.counted(f))
    ui.table(tasks, "cost-per-task")

    st.subheader("Per model and task: cost per successful attempt")
    cells = ui.query(ctx, queries.model_task_cost, f)
    if ui.no_rows(cells, "attempts"):
        return
    st.caption(
        "Total cost of the model's attempts on the task over its successful attempts (per "
        "attempt whatever the Count). Hover for n and the success rate. Colour is on a log "
        "scale; * = some attempts unpriced (left out of the cost), unpriced = none has a price."
    )
    n_rows = cells[["model", "provider"]].drop_duplicates().shape[0]
    ui.chart(heatmap(cells), height=max(260, 48 * n_rows + 80))
    with st.expander("Table: per model and task"):
        ui.table(cells, "cost-per-model-task")


def _none(v: object) -> object:
    return None if v is None or pd.isna(v) else v  # type: ignore[arg-type]


def request_headline(total: pd.Series) -> None:
    """The all-tasks row of the query: the same SQL (and cost rule) as the table's rows."""
    n, ok = int(total["logical_requests"]), int(total["succeeded"])
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Spend",
        money.spend_text(_none(total["spend_usd"]), int(total["unpriced_attempts"])),
        border=True,
    )
    c2.metric("Logical requests", f"{n:,}", border=True)
    c3.metric("Succeeded", ui.pct(ok / n if n else None), border=True)
    c4.metric(
        "Cost per successful request",
        money.cost_text(
            _none(total["cost_per_successful_request_usd"]),
            _none(total["price_coverage"]),
            _none(total["cost_unknown_reason"]),
        ),
        border=True,
        help="Spend of priced requests (failed attempts and retries included) over those of "
        "them whose last attempt succeeded; unpriced requests are left out of both, and the "
        "share priced is shown (below metrics.min_price_coverage: unknown).",
    )


def attempt_headline(total: pd.Series) -> None:
    n, ok = int(total["attempts"]), int(total["successes"])
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Spend",
        money.spend_text(_none(total["spend_usd"]), int(total["unpriced_attempts"])),
        border=True,
        help="Cost of the selected models' attempts.",
    )
    c2.metric("Attempts", f"{n:,}", border=True)
    c3.metric("Attempts succeeded", ui.pct(ok / n if n else None), border=True)
    c4.metric(
        "Cost per successful attempt",
        money.cost_text(
            _none(total["cost_per_success_usd"]),
            _none(total["price_coverage"]),
            _none(total["cost_unknown_reason"]),
            noun="attempts",
        ),
        border=True,
        help="The selected models' priced spend, their failed attempts included, over their "
        "priced successful attempts.",
    )


ui.page("Cost per success", body)
