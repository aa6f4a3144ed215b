"""The Routing page's verification after approval: each change of the latest approval, its
forecast against the requests since (:mod:`app.tuner.verify`), a chart of each day's success
inside the forecast's band, and the rollback it proposes when a change does worse."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import ui
from app.tuner import verify

VERDICT_BADGES = {
    "too_early": ":gray-badge[too early to tell]",
    "as_forecast": ":green-badge[as forecast]",
    "better": ":green-badge[better than forecast]",
    "worse": ":red-badge[worse than forecast]",
    "drifted": ":orange-badge[a model changed]",
}


def rows(checks: list[verify.Check]) -> list[dict[str, Any]]:
    """One table row per change: forecast and actual side by side."""
    out = []
    for c in checks:
        f, a = c.forecast, c.actual
        out.append(
            {
                "task": c.task,
                "verdict": c.verdict.replace("_", " "),
                "requests": a["requests"],
                "success_rate": a["success"],
                "forecast_success_low_rate": f.get("success_low"),
                "forecast_success_high_rate": f.get("success_high"),
                "cost_per_success_usd": a["cost_per_success_usd"],
                "forecast_cost_per_success_usd": f.get("cost_per_successful_request_usd"),
                "p95_ms": a["p95_ms"],
                "forecast_p95_ms": f.get("p95_ms"),
            }
        )
    return out


def chart(c: verify.Check) -> go.Figure:
    """Each day's success since the approval (with its 95% interval) against the forecast's
    band."""
    days = [d["local_day"] for d in c.days]
    fig = go.Figure()
    lo, hi = c.forecast.get("success_low"), c.forecast.get("success_high")
    if lo is not None and hi is not None and days:
        fig.add_hrect(y0=lo, y1=hi, fillcolor="#2CA02C", opacity=0.15, line_width=0)
        fig.add_annotation(
            x=days[0],
            y=hi,
            text="forecast (95%)",
            showarrow=False,
            yanchor="bottom",
            xanchor="left",
        )
    fig.add_scatter(
        x=days,
        y=[d["success"] for d in c.days],
        mode="lines+markers",
        name="actual",
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [d["success_high"] - d["success"] for d in c.days],
            "arrayminus": [d["success"] - d["success_low"] for d in c.days],
        },
        customdata=[d["requests"] for d in c.days],
        hovertemplate="%{x|%Y-%m-%d}: %{y:.1%} of %{customdata:,} requests<extra></extra>",
    )
    fig.update_layout(yaxis_tickformat=".0%", showlegend=False, title=f"{c.task}: success per day")
    return fig


def section(checks: list[verify.Check]) -> None:
    st.subheader("After approval: forecast against actual")
    if not checks:
        st.caption("No approved change to verify yet: approve a proposal and its forecast is kept.")
        return
    st.caption(
        f"The changes approved on {checks[0].approved_at:%Y-%m-%d %H:%M} UTC, held to their "
        "forecast by the requests since (`routeledger manifest verify` prints the same). A "
        "change is judged once it has tuner.min_samples requests."
    )
    for c in checks:
        line = f"**{ui.md_text(c.task)}** {VERDICT_BADGES.get(c.verdict, c.verdict)} " + "; ".join(
            ui.md_text(x) for x in c.findings
        )
        if c.verdict == "worse":
            st.warning(line, icon=":material/undo:")
        elif c.verdict == "drifted":
            st.info(line, icon=":material/trending_down:")
        else:
            st.markdown(line)
        if c.days:
            ui.chart(chart(c), height=260)
    ui.table(pd.DataFrame(rows(checks)), "forecast-vs-actual")
