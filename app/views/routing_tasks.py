"""The Routing page's view of one task of the proposal: the current and proposed chains side by
side with their estimates, the replayed savings in words, the quality evidence as a badge, the
reasons, and the cost-versus-success frontier of the candidate chains (the chosen one marked)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import ui


def share(part: float | None, whole: float | None) -> str | None:
    """``part`` as a share of ``whole`` (``12.3%``), None when either is unknown or whole is 0."""
    if part is None or whole is None or not whole:
        return None
    return ui.pct(part / whole)


def savings_text(sav: dict[str, Any]) -> str | None:
    """A task's replayed savings in words: dollars, share of the task's spend, 95% interval."""
    saved, spend = sav.get("savings_usd"), (sav.get("current") or {}).get("spend_usd")
    if saved is None:
        return None
    of = share(saved, spend)
    what = (f"{ui.usd(saved)} saved" if saved >= 0 else f"{ui.usd(-saved)} more spent") + (
        f", {of} of this task's {ui.usd(spend)} spend" if of else ""
    )
    low, high = sav.get("low_usd"), sav.get("high_usd")
    interval = (
        f" (95% interval {ui.usd(low)} .. {ui.usd(high)}"
        + (f", {share(low, spend)} .. {share(high, spend)}" if share(low, spend) else "")
        + ")"
        if low is not None and high is not None
        else ""
    )
    return f"Replayed over the window: {what}{interval}"


def quality_markdown(q: dict[str, Any]) -> str:
    """A task's quality evidence as a badge (green: measured; orange: not, or only in part)
    and its note as literal text."""
    head, _, rest = str(q["note"]).partition(": ")
    colour, icon = ("green", "verified") if q.get("measured") else ("orange", "help")
    return f":{colour}-badge[:material/{icon}: {ui.md_text(head)}] {ui.md_text(rest)}"


def chain_text(chain: list[str]) -> str:
    return " → ".join(chain) if chain else "-"


def _frontier(rows: list[dict[str, Any]], target: float | None) -> go.Figure:
    df = pd.DataFrame(rows)
    fig = go.Figure()
    plain = df[~df["chosen"] & ~df["current"]]
    fig.add_scatter(
        x=plain["cost_per_success_usd"],
        y=plain["success_low"],
        mode="markers",
        name="candidates",
        marker={"size": 7, "opacity": 0.55},
        text=ui.safe(plain["chain"]),
        hovertemplate="%{text}<br>$%{x:.6f} per success<br>"
        "success at least %{y:.2%}<extra></extra>",
    )
    for flag, name, symbol in (("current", "current", "diamond"), ("chosen", "proposed", "star")):
        sel = df[df[flag]]
        if not sel.empty:
            fig.add_scatter(
                x=sel["cost_per_success_usd"],
                y=sel["success_low"],
                mode="markers",
                name=name,
                marker={"size": 16, "symbol": symbol},
                text=ui.safe(sel["chain"]),
                hovertemplate="%{text}<br>$%{x:.6f} per success<br>"
                "success at least %{y:.2%}<extra></extra>",
            )
    if target:
        fig.add_hline(y=target, line_dash="dot", annotation_text="success target")
    fig.update_layout(
        xaxis_title="cost per successful request ($)",
        yaxis_title="success, at least (95% confidence)",
        yaxis_tickformat=".1%",
    )
    return fig


EXPERIMENT_STATES = {
    "planned": "Experiment proposed",
    "running": "Experiment under way",
    "adopted": "Experiment concluded: chain adopted",
    "qualified": "Experiment concluded: the chain meets the target",
    "stopped": "Experiment stopped",
    "ineligible": "Experiment stopped",
}


def experiment_markdown(exp: dict[str, Any]) -> str:
    """An exploration plan in a line: which chain, what share of the traffic, how long, what it
    costs (the reason under it says why)."""
    title = EXPERIMENT_STATES.get(str(exp.get("state")), "Experiment")
    chain = ui.md_text(" → ".join(exp.get("chain") or []))
    parts = [f"**{title}** `{ui.md_text(str(exp.get('id', '')))}`: {chain},"]
    parts.append(f"{ui.pct(exp.get('share'), 0)} of the task's traffic")
    if exp.get("requests"):
        parts.append(f"for {int(exp['requests']):,} requests")
    if exp.get("days"):
        parts.append(f"(about {int(exp['days'])} days)")
    if exp.get("started"):
        parts.append(f"since {ui.md_text(str(exp['started']))}")
    cost = exp.get("extra_cost_usd")
    if cost is not None:
        word = "saves" if cost < 0 else "costs"
        parts.append(f"· {word} {ui.usd(abs(cost))} while it runs")
    return " ".join(parts)


def task_panel(t: dict[str, Any], frontier: list[dict[str, Any]], target: float | None) -> None:
    left, right = st.columns(2)
    cur, sav = t.get("current_estimate") or {}, t.get("savings") or {}
    with left:
        st.caption("Current chain")
        st.text(chain_text(t["current_chain"]))
        st.metric(
            "Cost per success (now)",
            ui.usd(cur.get("cost_per_successful_request_usd")),
            border=True,
        )
        st.text(
            f"success {ui.pct(cur.get('estimated_success'))} (at least "
            f"{ui.pct(cur.get('estimated_success_low'))} with 95% confidence), "
            f"P95 {ui.ms(cur.get('p95_ms'))}"
        )
    with right:
        st.caption(f"Proposed chain · {t['status']}")
        st.text(chain_text(t["proposed_chain"]))
        st.metric(
            "Cost per success (proposed)",
            ui.usd(t.get("cost_per_successful_request_usd")),
            border=True,
        )
        st.text(
            f"success {ui.pct(t.get('estimated_success'))} (at least "
            f"{ui.pct(t.get('estimated_success_low'))} with 95% confidence), "
            f"P95 {ui.ms(t.get('p95_ms'))}"
        )
    saved = savings_text(sav)
    if saved:
        st.text(saved)
    elif sav.get("note"):
        st.text(f"Savings unknown: {sav['note']}")
    exp = t.get("experiment")
    if exp:
        st.markdown(experiment_markdown(exp))
    q = t.get("quality_evidence") or {}
    if q.get("note"):
        st.markdown(quality_markdown(q))
    st.text("\n".join(f"• {r}" for r in t["reasons"]))
    if frontier:
        ui.chart(_frontier(frontier, target), height=320)
