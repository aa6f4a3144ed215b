"""Cost per success: per task, the cost of a successful logical request (failed attempts and
retries included); per model and task, the cost of a successful attempt.

With a provider or model filter, the task figures are the selected models' own attempts (their
cost over their successful attempts) unless the Count control asks for whole requests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import drill, money, queries, ui

HOVER = (
    "attempts",
    "successes",
    "success_rate",
    "success_rate_low",
    "spend_usd",
    "unpriced_attempts",
)


def cell(cost: float, attempts: float, unpriced: float, decimals: int) -> str:
    """A heatmap cell's text: the cost per success at the grid's one precision, ``*`` when
    some attempts are unpriced, ``unpriced`` when all are, ``unknown`` when too little is
    priced to tell (the mart's rule), nothing where there is no attempt."""
    if np.isnan(attempts):
        return ""
    if unpriced >= attempts:
        return "unpriced"
    if np.isnan(cost):
        return "unknown"
    return ui.usd(cost, decimals=decimals) + ("*" if unpriced else "")


def tip(g: dict[str, np.ndarray], i: int, j: int, row: str, task: str, text: str) -> str:
    """A heatmap cell's hover text: n, success rate and spend, each in its format."""
    if np.isnan(g["attempts"][i, j]):
        return ""
    return (
        f"{row}<br>{task}<br>cost per success: {text or ui.MISSING}<br>"
        f"n = {ui.count(g['attempts'][i, j])} attempts, "
        f"{ui.count(g['successes'][i, j])} succeeded<br>"
        f"success rate {ui.pct(g['success_rate'][i, j])} "
        f"(95% low {ui.pct(g['success_rate_low'][i, j])})<br>"
        f"spend {money.spend_text(_none(g['spend_usd'][i, j]), g['unpriced_attempts'][i, j])}"
    )


def heatmap(df: pd.DataFrame) -> go.Figure:
    """Model x task; colour on a log scale (costs span orders of magnitude) with its dollar
    scale beside it, value in the cell at one precision. A cell whose attempts are all
    unpriced says so instead of showing $0."""
    df = df.assign(row=df["model"] + drill.HEATMAP_ROW_SEP + df["provider"])
    rows = df.groupby("row")["spend_usd"].sum().sort_values().index.tolist()
    tasks = sorted(df["task"].unique())
    wide = df.pivot(index="row", columns="task").reindex(index=rows)
    grid = {
        c: wide[c].reindex(columns=tasks).to_numpy(dtype=float)
        for c in (*HOVER, "cost_per_success_usd")
    }
    z = grid["cost_per_success_usd"]
    priced = (grid["unpriced_attempts"] < grid["attempts"]) & (z > 0)
    costs = z[priced]
    decimals = ui.usd_decimals(costs.tolist())
    text = np.array(
        [
            [cell(z[i, j], grid["attempts"][i, j], grid["unpriced_attempts"][i, j], decimals)
             for j in range(len(tasks))]
            for i in range(len(rows))
        ],
        dtype=object,
    )  # fmt: skip
    x, y = ui.safe(pd.Series(tasks, dtype=object)), ui.safe(pd.Series(rows, dtype=object))
    hover = [
        [tip(grid, i, j, y.iloc[i], x.iloc[j], text[i, j]) for j in range(len(tasks))]
        for i in range(len(rows))
    ]
    scale: dict[str, object] = {"showscale": False}
    if costs.size:
        ticks, labels = ui.money_ticks(float(costs.min()), float(costs.max()))
        scale = {
            "showscale": True,
            "colorbar": {
                "title": {"text": "cost per<br>success"},
                "tickvals": ticks,
                "ticktext": labels,
            },
        }
    fig = go.Figure(
        go.Heatmap(
            z=np.log10(np.where(priced, z, np.nan)),
            x=x,
            y=y,
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            colorscale="YlOrRd",
            **scale,
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
    ui.table(ui.explore_links(tasks, f, lambda r: {"task": r["task"]}), "cost-per-task")

    st.subheader("Per model and task: cost per successful attempt")
    cells = ui.query(ctx, queries.model_task_cost, f)
    if ui.no_rows(cells, "attempts"):
        return
    st.caption(
        "Total cost of the model's attempts on the task over its successful attempts (per "
        "attempt whatever the Count). Hover for n and the success rate. Colour is on a log "
        "scale (the dollar scale beside it); * = some attempts unpriced (left out of the "
        "cost), unpriced = none has a price. Click a cell for its requests."
    )
    n_rows = cells[["model", "provider"]].drop_duplicates().shape[0]
    ui.chart(
        heatmap(cells),
        height=max(260, 48 * n_rows + 80),
        drill=lambda _fig, p: drill.heatmap_cell(f, p),
        key="cost_heatmap",
    )
    with st.expander("Table: per model and task"):
        ui.table(
            ui.explore_links(
                cells,
                f,
                lambda r: {"model": r["model"], "provider": r["provider"], "task": r["task"]},
            ),
            "cost-per-model-task",
        )


def _none(v: object) -> object:
    return None if v is None or pd.isna(v) else v  # type: ignore[arg-type]


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun if n != 1 else noun.removesuffix('s')}"


def spend_figure(spend: object, unpriced: object) -> tuple[str, str | None]:
    """A spend headline as its value and the note under it (a card is too narrow for both on
    one line): ``$4.28`` and ``+ 308 unpriced attempts``; ``unpriced`` and ``308 attempts``
    when nothing is known (:func:`app.money.known_spend`). Never $0 for what has no price."""
    n = money.count(unpriced)
    known = money.known_spend(_none(spend), n)
    if known is None:
        return ("unpriced", _plural(n, "attempts")) if n else (ui.MISSING, None)
    return money.usd(known), ("+ " + _plural(n, "unpriced attempts") if n else None)


def cost_figure(
    value: object, coverage: object, reason: object, noun: str = "requests"
) -> tuple[str, str | None]:
    """A cost per success as the mart gives it, as a value and a note: ``$0.0231`` and ``97% of
    requests priced``; ``unknown`` and the mart's reason (``only 76% of requests priced``)."""
    if _none(value) is None:
        return ("unknown", str(reason)) if _none(reason) else (ui.MISSING, None)
    cov = _none(coverage)
    note = money.coverage_text(cov, noun) if cov is not None and float(cov) < 1 else None
    return money.usd(value), note


def figure(col: Any, label: str, shown: tuple[str, str | None], help: str | None = None) -> None:
    value, note = shown
    col.metric(label, value, note, delta_color="off", delta_arrow="off", border=True, help=help)


def request_headline(total: pd.Series) -> None:
    """The all-tasks row of the query: the same SQL (and cost rule) as the table's rows."""
    n, ok = int(total["logical_requests"]), int(total["succeeded"])
    c1, c2, c3, c4 = st.columns(4)
    figure(c1, "Spend", spend_figure(total["spend_usd"], total["unpriced_attempts"]))
    c2.metric("Logical requests", ui.count(n), border=True)
    c3.metric("Succeeded", ui.share(ok, n, of="requests"), border=True)
    figure(
        c4,
        "Cost per successful request",
        cost_figure(
            total["cost_per_successful_request_usd"],
            total["price_coverage"],
            total["cost_unknown_reason"],
        ),
        help="Spend of priced requests (failed attempts and retries included) over those of "
        "them whose last attempt succeeded; unpriced requests are left out of both, and the "
        "share priced is shown (below metrics.min_price_coverage: unknown).",
    )


def attempt_headline(total: pd.Series) -> None:
    n, ok = int(total["attempts"]), int(total["successes"])
    c1, c2, c3, c4 = st.columns(4)
    figure(
        c1,
        "Spend",
        spend_figure(total["spend_usd"], total["unpriced_attempts"]),
        help="Cost of the selected models' attempts.",
    )
    c2.metric("Attempts", ui.count(n), border=True)
    c3.metric("Attempts succeeded", ui.share(ok, n), border=True)
    figure(
        c4,
        "Cost per successful attempt",
        cost_figure(
            total["cost_per_success_usd"],
            total["price_coverage"],
            total["cost_unknown_reason"],
            noun="attempts",
        ),
        help="The selected models' priced spend, their failed attempts included, over their "
        "priced successful attempts.",
    )


ui.page("Cost per success", body)
