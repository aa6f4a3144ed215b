"""Overview: the selected range's headline figures against the previous period of equal length;
spend this week and month; spend over time with the incidents drawn on it; the incidents
listed, each linked to the page that shows it; what moved; the monthly budget's burn and the
share of attempts without a price."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import drill, money, queries, ui
from app import incidents as inc

GROUPS = {"Provider": "provider", "Model": "model", "Task": "task", "Team": "team"}
NO_DATA = "no data before"
SHOWN_INCIDENTS = 10  # listed one by one; all of them are in the table below the list
_OFF = {"delta_color": "off", "delta_arrow": "off"}


def _none(v: Any) -> Any:
    return None if v is None or pd.isna(v) else v


def delta(
    now: Any, before: Any, *, points: bool = False, worse: str | None = "up", had_data: bool = True
) -> dict[str, Any]:
    """``st.metric`` keyword arguments for a figure against the previous period: a relative
    change (``+12.3%``) or, for a rate, a change in percentage points (``+1.2 pp``); coloured
    by whether ``worse`` is a rise ("up"), a fall ("down") or neither (None). "no data
    before" when the previous period is empty; no delta when either figure is unknown."""
    if not had_data:
        return {"delta": NO_DATA, **_OFF}
    now, before = _none(now), _none(before)
    if now is None or before is None or (not points and float(before) == 0):
        return {"delta": None}
    d = (float(now) - float(before)) * 100 if points else (float(now) / float(before) - 1) * 100
    if round(d, 1) == 0:
        return {"delta": "no change", **_OFF}
    color = {"up": "inverse", "down": "normal"}.get(worse or "", "off")
    return {"delta": f"{d:+.1f} pp" if points else f"{d:+.1f}%", "delta_color": color}


def _total(df: pd.DataFrame) -> pd.Series | None:
    """The all-tasks row of a task_cost / task_attempt_cost frame; None over no data."""
    return None if df.empty else queries.split_total(df)[1]


def _spend(row: pd.Series | None) -> Any:
    return (
        None
        if row is None
        else money.known_spend(_none(row["spend_usd"]), row["unpriced_attempts"])
    )


def body(ctx: ui.Ctx) -> None:
    assert ctx.cfg is not None and ctx.filters is not None
    f = ui.count_control(ctx)
    if f.selects_models:
        st.caption(ui.counted(f))
    headline(ctx, f)
    spent = calendar_cards(ctx, f)

    incidents = ui.query(ctx, queries.incidents, f)
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Spend over time")
        by = st.radio("Stack by", list(GROUPS), horizontal=True, key="overview_stack") or "Provider"
        df = ui.query(ctx, queries.spend_over_time, f, GROUPS[by])
        if not ui.no_rows(df, "spend"):
            ui.chart(
                spend_chart(ctx, df, by, incidents, f),
                drill=drill.spend(
                    f, GROUPS[by], incidents.to_dict("records"), ZoneInfo(ctx.cfg.timezone)
                ),
                key="overview_spend_chart",
            )
            st.caption(
                "Click a bar for its requests in the request explorer."
                + (
                    " Shaded: incidents (listed below); hover a triangle for what happened, "
                    "click it for its requests."
                    if not incidents.empty
                    else ""
                )
            )
    with right:
        st.subheader("Budget burn")
        budget_card(ctx, f, spent)
        burn(ctx, ui.month_start(f.until), ctx.cfg.values.get("budget.monthly_usd"))

    incident_list(ctx, incidents)

    # week over week: the last complete week, or this one once it is complete
    week = ui.week_start(f.until, ctx.cfg.week_start)
    moved = week if f.until >= week + timedelta(days=6) else week - timedelta(days=7)
    st.subheader("Top movers, week over week")
    st.caption(
        f"Spend in the week of {moved} against the week before; the current week counts once it "
        "is complete. Red grew, green shrank."
    )
    m1, m2 = st.columns(2)
    for col, group in ((m1, "model"), (m2, "task")):
        with col:
            movers = ui.query(ctx, queries.top_movers, f, group, moved, moved - timedelta(days=7))
            if not ui.no_rows(movers, f"{group}s whose spend changed"):
                ui.chart(
                    movers_chart(movers, group),
                    height=60 + 34 * len(movers),
                    drill=drill.movers(f, group, moved, moved + timedelta(days=6)),
                    key=f"overview_movers_{group}",
                )
                with st.expander(f"Table: movers by {group}"):
                    ui.table(movers.rename(columns={"grp": group}), f"movers-{group}")


# -- the selected range against the previous one --------------------------------------------------


def headline(ctx: ui.Ctx, f: queries.Filters) -> None:
    prev = queries.previous_range(f)
    days = (f.until - f.since).days + 1
    st.subheader(f"{f.since} to {f.until}")
    first = ctx.state.get("first_day")
    partial = (
        f" The data starts on {first}: the days before hold only part of a period."
        if first is not None and prev.since < first <= prev.until
        else ""
    )
    st.caption(
        f"The selected {days} local day{'s' if days != 1 else ''} against the {days} before "
        f"({prev.since} to {prev.until}). Provider, model, task and team filters apply.{partial}"
    )
    vs = f"vs the {days} days before" if days > 1 else "vs the day before"
    shown = attempt_cards(ctx, f, prev) if f.per_attempt else request_cards(ctx, f, prev)
    share = ui.query(ctx, queries.unpriced_share, f)
    unpriced = share["unpriced_attempts"] / share["attempts"] if share["attempts"] else 0.0
    shown.append(
        {
            "label": "Unpriced attempts",
            "value": ui.pct(unpriced),
            "delta": f"{share['unpriced_attempts']:,} of {share['attempts']:,}",
            **_OFF,
            "compared": False,
            "help": "Attempts with no price and no gateway-reported cost in the selected days. "
            "They are counted, never summed as $0.",
        }
    )
    for row in (shown[:2], shown[2:5], shown[5:]):  # money first, wide enough to read
        for col, card in zip(st.columns(3 if len(row) > 2 else 2), row, strict=False):
            compared = card.pop("compared", True) and card.get("delta") not in (None, NO_DATA)
            col.metric(**card, border=True, delta_description=vs if compared else None)
    if share["unpriced_attempts"]:
        st.page_link("views/prices.py", label="Unmatched models", icon=":material/link:")


SHOWN = {"count": lambda v: f"{int(v):,}", "pct": ui.pct, "ms": ui.ms}
# label, column of the all-tasks row, how it is shown, compared in points, worse when it goes
# up/down/neither, help (formatted with the row)
REQUEST_CARDS = (
    ("Logical requests", "logical_requests", "count", False, None, None),
    ("Success rate", "success_rate", "pct", True, "down",
     "{succeeded:,.0f} of {logical_requests:,.0f} requests' last attempt succeeded; 95% "
     "interval {success_rate_low:.1%} to {success_rate_high:.1%}."),
    ("P95 latency", "p95_ms", "ms", False, "up",
     "End to end (first start to last end) over n = {latency_n:,.0f} successful requests."),
    ("Retry rate", "retry_rate", "pct", True, "up",
     "Share of logical requests with more than one attempt."),
    ("Fallback rate", "fallback_rate", "pct", True, "up",
     "Share of logical requests whose final model differs from the first."),
)  # fmt: skip
ATTEMPT_CARDS = (
    ("Attempts", "attempts", "count", False, None, "In {logical_requests:,.0f} logical requests."),
    ("Attempt success rate", "success_rate", "pct", True, "down",
     "{successes:,.0f} of {attempts:,.0f} attempts succeeded."),
    ("P95 latency", "p95_ms", "ms", False, "up", "Over n = {latency_n:,.0f} successful attempts."),
    ("Retry share", "retry_share", "pct", True, "up",
     "Share of their attempts followed by another attempt."),
    ("Fallback share", "fallback_share", "pct", True, "up",
     "Share of their attempts followed by an attempt on another model."),
)  # fmt: skip
SPEND_HELP = (
    "Cost of the selected {what}, failed attempts and retries included; unpriced attempts are "
    "counted, never $0. The change compares the known parts."
)
COST_HELP = {
    "request": "Spend of priced requests (failed attempts and retries included) over those of "
    "them whose last attempt succeeded, as on the Cost page.",
    "attempt": "Their priced spend, failed attempts included, over their priced successful "
    "attempts, as on the Cost page.",
}


def cards(
    now: pd.Series, before: pd.Series | None, specs: tuple[Any, ...], grain: str
) -> list[dict[str, Any]]:
    """``st.metric`` arguments of the headline: spend, cost per success, then ``specs``, each
    against the previous period (``before``: its all-tasks row, None when it had no data)."""
    had = before is not None
    cps = "cost_per_successful_request_usd" if grain == "request" else "cost_per_success_usd"
    spend_label, spend = money.spend_card(
        "Spend", _none(now["spend_usd"]), int(now["unpriced_attempts"])
    )
    cost_label, cost, unknown = money.cost_card(
        f"Cost per successful {grain}",
        _none(now[cps]),
        _none(now["price_coverage"]),
        _none(now["cost_unknown_reason"]),
        noun=f"{grain}s",
    )
    out = [
        {
            "label": spend_label,
            "value": spend,
            **delta(_spend(now), _spend(before), had_data=had),
            "help": SPEND_HELP.format(
                what="requests" if grain == "request" else "models' attempts"
            ),
        },
        {
            "label": cost_label,
            "value": cost,
            # unknown now: why, in the delta's place (there is nothing to compare)
            **(
                {"delta": unknown, **_OFF, "compared": False}
                if unknown
                else delta(now[cps], None if before is None else before[cps], had_data=had)
            ),
            "help": COST_HELP[grain],
        },
    ]
    for label, col, shown, points, worse, help_text in specs:
        was = None if before is None else before[col]
        out.append(
            {
                "label": label,
                "value": SHOWN[shown](now[col]),
                **delta(now[col], was, points=points, worse=worse, had_data=had),
                "help": help_text.format(**now.to_dict()) if help_text else None,
            }
        )
    return out


def request_cards(ctx: ui.Ctx, f: queries.Filters, prev: queries.Filters) -> list[dict[str, Any]]:
    """The all-tasks row of :func:`app.queries.task_cost` (the Cost page's figures and cost
    rule) for the range and the range before."""
    now = _total(ui.query(ctx, queries.task_cost, f, True))
    if now is None:
        st.info("No logical requests in the selected days and filters.")
        return []
    before = _total(ui.query(ctx, queries.task_cost, prev, True))
    return cards(now, before, REQUEST_CARDS, "request")


def attempt_cards(ctx: ui.Ctx, f: queries.Filters, prev: queries.Filters) -> list[dict[str, Any]]:
    """With a provider or model filter: the selected models' own attempts, as on the Cost page
    (:func:`app.queries.task_attempt_cost`), with the share of them followed by an attempt on
    another model (:func:`app.queries.attempt_fallbacks`), for the range and the range before."""

    def row(g: queries.Filters) -> pd.Series | None:
        total = _total(ui.query(ctx, queries.task_attempt_cost, g, True))
        if total is not None:
            fb = ui.query(ctx, queries.attempt_fallbacks, g)
            total["fallback_share"] = fb["fell_back"] / fb["attempts"] if fb["attempts"] else None
        return total

    now = row(f)
    if now is None:
        st.info("No attempts of the selected models in the selected days and filters.")
        return []
    return cards(now, row(prev), ATTEMPT_CARDS, "attempt")


# -- calendar week and month ----------------------------------------------------------------------


def calendar_cards(ctx: ui.Ctx, f: queries.Filters) -> dict[str, float]:
    """This week's and this month's spend so far against the same days before; the figures
    (:func:`app.queries.period_spend`)."""
    assert ctx.cfg is not None
    week = ui.week_start(f.until, ctx.cfg.week_start)
    month, prev_month = ui.month_start(f.until), ui.prev_month_start(f.until)
    p = ui.query(ctx, queries.period_spend, f, week, week - timedelta(days=7), month, prev_month)
    st.caption(
        f"Calendar weeks and months in {ctx.cfg.timezone} up to {f.until}, the last selected day."
    )
    prev_week = f"the previous week: {ui.usd(p['prev_week_to_date_usd'])}"
    prev_month = f"{prev_month:%B}: {ui.usd(p['prev_month_to_date_usd'])}"
    for col, period, label, since, before in zip(
        st.columns(2),
        ("week", "month"),
        ("This week so far", "This month so far"),
        (f"Week from {week}", f"Month from {month}"),
        (prev_week, prev_month),
        strict=True,
    ):
        had = p[f"prev_{period}_to_date_attempts"] > 0
        col.metric(
            *money.spend_card(label, p[f"{period}_usd"], int(p[f"{period}_unpriced"])),
            **delta(p[f"{period}_usd"], p[f"prev_{period}_to_date_usd"], had_data=had),
            border=True,
            delta_description=f"vs last {period}" if had else None,
            help=f"{since}. Same days of {before}; all of it: "
            f"{ui.usd(p[f'prev_{period}_usd'])}. The change compares the known parts.",
        )
    return p


def budget_card(ctx: ui.Ctx, f: queries.Filters, p: dict[str, float]) -> None:
    assert ctx.cfg is not None
    month = ui.month_start(f.until)
    budget = ctx.cfg.values.get("budget.monthly_usd")
    elapsed = (f.until - month).days + 1
    projected = p["month_usd"] / elapsed * ui.days_in_month(month)
    if budget:
        st.metric(
            "Monthly budget used",
            ("at least " if p["month_unpriced"] else "") + ui.pct(p["month_usd"] / float(budget)),
            f"projected {ui.pct(projected / float(budget), 0)} of {ui.usd(float(budget))}",
            **_OFF,
            border=True,
            help="Month-to-date spend over budget.monthly_usd; the projection extends the "
            "month's daily average to its last day.",
        )
    else:
        st.metric(
            "Monthly budget",
            "not set",
            f"projected month {money.at_least(projected, int(p['month_unpriced']))}",
            **_OFF,
            border=True,
            help="No budget configured: set budget.monthly_usd in routeledger.toml.",
        )


# -- spend over time and the incidents on it ------------------------------------------------------


def spend_chart(
    ctx: ui.Ctx, df: pd.DataFrame, by: str, incidents: pd.DataFrame, f: queries.Filters
) -> go.Figure:
    """Spend per day stacked by ``by``; each incident a shaded band over its days with a short
    label (incidents of one kind over the same days share one), and a marker to hover."""
    fig = px.bar(
        ui.safe_cols(df, "grp"),
        x="local_day",
        y="spend_usd",
        color="grp",
        color_discrete_map=ui.colors(ctx, GROUPS[by]),
        labels={"local_day": "", "spend_usd": "Spend ($)", "grp": by},
    )
    fig.update_traces(hovertemplate="%{x|%Y-%m-%d}: $%{y:,.4f}")
    fig.update_layout(bargap=0.15, yaxis_tickprefix="$")
    if not incidents.empty:
        top = float(df.groupby("local_day")["spend_usd"].sum().max() or 0) or 1.0
        zone = ZoneInfo(ctx.cfg.timezone if ctx.cfg else "UTC")
        rows = incidents.to_dict("records")
        inc.mark(fig, rows, f.since, f.until, zone, top * 1.04, ui.safe)
    return fig


def incident_list(ctx: ui.Ctx, incidents: pd.DataFrame) -> None:
    """Newest first: what, on which model, when, how big, and a link to the page that shows it."""
    assert ctx.cfg is not None
    st.subheader("Incidents")
    if incidents.empty:
        st.caption(
            "No error spike, rate-limit storm, P95 regression, price change or new unpriced "
            "model in the selected days."
        )
        return
    zone = ZoneInfo(ctx.cfg.timezone)
    st.caption(
        f"Found in the marts (thresholds: sql/marts/incidents.sql), newest first; times in "
        f"{ctx.cfg.timezone}. Provider and model filters apply; task and team filters do not "
        "(an incident is a provider's or a model's). `routeledger serve` alerts each new one once."
    )
    f = ctx.filters
    for r in incidents.head(SHOWN_INCIDENTS).to_dict("records"):
        with st.container(border=True):
            text, link = st.columns([5, 2], vertical_alignment="center")
            what = (inc.kind_text(r["kind"]), inc.subject(r))
            when = inc.when_text(r["start_at"], r["end_at"], zone)
            text.markdown(f"**{ui.md_text(what[0])}** · {ui.md_text(what[1])} · {ui.md_text(when)}")
            text.caption(ui.md_text(r["summary"]))
            title, page = inc.PAGES[r["page"]]
            link.page_link(page, label=title, icon=":material/arrow_forward:")
            link.page_link(
                queries.EXPLORER_PAGE,
                label="Its requests",
                icon=":material/manage_search:",
                query_params=queries.explorer_params(f, **inc.explore(r, zone)),
            )
    shown = incidents[["start_at", "end_at", "kind", "provider", "model", "summary", "incident_id"]]
    with st.expander(f"Table: all {len(incidents):,} incidents"):
        ui.table(shown, "incidents")


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
