"""Overview: spend this week and month against the previous ones, spend over time, what moved,
the monthly budget's burn and the share of attempts without a price."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import money, queries, ui

GROUPS = {"Provider": "provider", "Model": "model", "Task": "task", "Team": "team"}


def change(now: float, before: float) -> str | None:
    if before <= 0:
        return None if now <= 0 else "new"
    return f"{(now / before - 1) * 100:+.1f}%"


def body(ctx: ui.Ctx) -> None:
    assert ctx.cfg is not None and ctx.filters is not None
    f = ctx.filters
    week = ui.week_start(f.until, ctx.cfg.week_start)
    month, prev_month = ui.month_start(f.until), ui.prev_month_start(f.until)
    p = ui.query(ctx, queries.period_spend, f, week, week - timedelta(days=7), month, prev_month)
    share = ui.query(ctx, queries.unpriced_share, f)
    st.caption(
        f"Calendar weeks and months in {ctx.cfg.timezone} up to {f.until}, the last selected day. "
        "Provider, model, task and team filters apply."
    )
    if f.selects_models:
        st.caption(ui.counted(f))

    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "This week so far",
        money.spend_text(p["week_usd"], int(p["week_unpriced"])),
        change(p["week_usd"], p["prev_week_to_date_usd"]),
        delta_color="inverse",
        border=True,
        delta_description="vs last week",
        help=f"Week from {week}. Same days of the previous week: {ui.usd(p['prev_week_to_date_usd'])}; "
        f"the whole previous week: {ui.usd(p['prev_week_usd'])}.",
    )
    c2.metric(
        "This month so far",
        money.spend_text(p["month_usd"], int(p["month_unpriced"])),
        change(p["month_usd"], p["prev_month_to_date_usd"]),
        delta_color="inverse",
        border=True,
        delta_description="vs last month",
        help=f"Month from {month}. Same days of {prev_month:%B}: {ui.usd(p['prev_month_to_date_usd'])}; "
        f"all of {prev_month:%B}: {ui.usd(p['prev_month_usd'])}.",
    )
    budget = ctx.cfg.values.get("budget.monthly_usd")
    elapsed = (f.until - month).days + 1
    projected = p["month_usd"] / elapsed * ui.days_in_month(month)
    if budget:
        c3.metric(
            "Monthly budget used",
            ("at least " if p["month_unpriced"] else "") + ui.pct(p["month_usd"] / float(budget)),
            f"projected {ui.pct(projected / float(budget), 0)} of {ui.usd(float(budget))}",
            delta_color="off",
            delta_arrow="off",
            border=True,
            help="Month-to-date spend over budget.monthly_usd; the projection extends the "
            "month's daily average to its last day.",
        )
    else:
        c3.metric(
            "Monthly budget",
            "not set",
            f"projected month {money.at_least(projected, int(p['month_unpriced']))}",
            delta_color="off",
            delta_arrow="off",
            border=True,
            help="No budget configured: set budget.monthly_usd in routeledger.toml.",
        )
    unpriced = share["unpriced_attempts"] / share["attempts"] if share["attempts"] else 0.0
    c4.metric(
        "Unpriced attempts",
        ui.pct(unpriced),
        f"{share['unpriced_attempts']:,} of {share['attempts']:,}",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Attempts with no price and no gateway-reported cost in the selected days. They are "
        "counted, never summed as $0.",
    )
    if share["unpriced_attempts"]:
        c4.page_link("views/prices.py", label="Unmatched models", icon=":material/link:")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Spend over time")
        by = st.radio("Stack by", list(GROUPS), horizontal=True, key="overview_stack")
        df = ui.query(ctx, queries.spend_over_time, f, GROUPS[by or "Provider"])
        if not ui.no_rows(df, "spend"):
            fig = px.bar(
                ui.safe_cols(df, "grp"),
                x="local_day",
                y="spend_usd",
                color="grp",
                labels={"local_day": "", "spend_usd": "Spend ($)", "grp": by},
            )
            fig.update_traces(hovertemplate="%{x|%Y-%m-%d}: $%{y:,.4f}")
            fig.update_layout(bargap=0.15, yaxis_tickprefix="$")
            ui.chart(fig)
    with right:
        st.subheader("Budget burn")
        burn(ctx, month, budget)

    # week over week: the last complete week, or this one once it is complete
    moved = week if f.until >= week + timedelta(days=6) else week - timedelta(days=7)
    st.subheader("Top movers, week over week")
    st.caption(
        f"Spend in the week of {moved} against the week before; the current week counts once it "
        "is complete. Red grew, green shrank."
    )
    m1, m2 = st.columns(2)
    for col, by in ((m1, "model"), (m2, "task")):
        with col:
            movers = ui.query(ctx, queries.top_movers, f, by, moved, moved - timedelta(days=7))
            if not ui.no_rows(movers, f"{by}s whose spend changed"):
                ui.chart(movers_chart(movers, by), height=60 + 34 * len(movers))
                with st.expander(f"Table: movers by {by}"):
                    ui.table(movers.rename(columns={"grp": by}), f"movers-{by}")


def movers_chart(movers: pd.DataFrame, by: str) -> go.Figure:
    df = ui.safe_cols(movers, "grp").iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=df["change_usd"],
            y=df["grp"],
            orientation="h",
            marker_color=["#d62728" if v > 0 else "#2ca02c" for v in df["change_usd"]],
            customdata=df[["week_usd", "week_before_usd", "change_pct"]],
            hovertemplate="%{y}: %{x:+$,.2f}<br>$%{customdata[0]:,.2f} against "
            "$%{customdata[1]:,.2f} the week before (%{customdata[2]:+.0%})<extra></extra>",
        )
    )
    fig.update_layout(title=f"By {by}", xaxis_tickprefix="$", xaxis_zeroline=True)
    return fig


def burn(ctx: ui.Ctx, month: date, budget: float | None) -> None:
    assert ctx.filters is not None
    df = ui.query(ctx, queries.spend_by_day, ctx.filters._replace(since=month))
    if ui.no_rows(df, "spend this month"):
        return
    df["cumulative_usd"] = df["spend_usd"].cumsum()
    fig = go.Figure(
        go.Scatter(
            x=df["local_day"],
            y=df["cumulative_usd"],
            mode="lines+markers",
            name="Spent",
            hovertemplate="%{x|%Y-%m-%d}: $%{y:,.2f}<extra></extra>",
        )
    )
    last, end = df["local_day"].iloc[-1].date(), month.replace(day=ui.days_in_month(month))
    if last < end:  # the month's daily average carried to its last day
        rate = df["cumulative_usd"].iloc[-1] / ((last - month).days + 1)
        fig.add_scatter(
            x=[last, end],
            y=[df["cumulative_usd"].iloc[-1], rate * ui.days_in_month(month)],
            mode="lines",
            line_dash="dot",
            name="Projected",
            hovertemplate="%{x|%Y-%m-%d}: $%{y:,.2f} projected<extra></extra>",
        )
    if budget:
        fig.add_hline(y=float(budget), line_dash="dash", annotation_text="budget")
    else:
        st.caption("No budget configured: set `budget.monthly_usd` in routeledger.toml.")
    fig.update_layout(yaxis_tickprefix="$", showlegend=False)
    ui.chart(fig, height=330)


ui.page("Overview", body)
