"""Reliability: error, retry and fallback rates per day, error classes, fallback flows from the
first model to the final one, and the money spent on attempts that failed.

With a provider or model filter, the figures are the selected models' own attempts (their error
rate, their retry share, where the requests went after them) unless the Count control asks for
whole requests."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import drill, money, queries, ui

RATES = {
    "error_rate": "Attempts failed",
    "retry_rate": "Requests retried",
    "fallback_rate": "Requests fell back",
    "request_failure_rate": "Requests failed in the end",
}
ATTEMPT_RATES = {
    "error_rate": "Attempts failed",
    "retry_share": "Attempts followed by another",
}
RATE_COLOURS = {  # rates are not models: colours of their own, the same on every view
    "Attempts failed": "#D62728",
    "Requests retried": "#FF7F0E",
    "Attempts followed by another": "#FF7F0E",
    "Requests fell back": "#9467BD",
    "Requests failed in the end": "#7F7F7F",
}


def rgba(colour: str, alpha: float) -> str:
    """``#RRGGBB`` as a translucent ``rgba(...)`` (a flow's band in its model's colour)."""
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def sankey(
    flows: pd.DataFrame,
    src: str,
    dst: str,
    n: str,
    ok: str,
    *,
    sides: tuple[str, str],
    unit: str,
    ok_text: str,
    colours: dict[str, str],
) -> go.Figure:
    """Flows from ``src`` to ``dst`` (log strings, escaped), ``n`` of them, ``ok`` succeeded;
    each model's nodes in its colour, each flow in its first model's."""
    firsts = ui.safe(flows[src]).tolist()
    finals = ui.safe(flows[dst]).tolist()
    left, right = sorted(set(firsts)), sorted(set(finals))
    return go.Figure(
        go.Sankey(
            node={
                "label": [f"{m} ({sides[0]})" for m in left] + [f"{m} ({sides[1]})" for m in right],
                "color": [colours.get(m, ui.GREY) for m in (*left, *right)],
                "pad": 18,
            },
            link={
                "source": [left.index(m) for m in firsts],
                "target": [len(left) + right.index(m) for m in finals],
                "value": flows[n].tolist(),
                "customdata": flows[ok].tolist(),
                "color": [rgba(colours.get(m, ui.GREY), 0.35) for m in firsts],
                "hovertemplate": "%{source.label} → %{target.label}<br>"
                f"{ui.hover('value', 'count')} {unit}, {ui.hover('customdata', 'count')} "
                f"{ok_text}<extra></extra>",
            },
        )
    )


def body(ctx: ui.Ctx) -> None:
    assert ctx.filters is not None
    f = ui.count_control(ctx)
    by_attempt = f.per_attempt
    tz = ctx.cfg.timezone if ctx.cfg else "UTC"
    if by_attempt:
        daily = ui.query(ctx, queries.attempt_reliability_over_time, f, tz)
    else:
        daily = ui.query(ctx, queries.reliability_over_time, f, tz)
    if ui.no_rows(daily, "attempts"):
        return
    if f.selects_models:
        st.caption(ui.counted(f))
    failed = ui.query(ctx, queries.failed_spend, f)
    att, bad = daily["attempts"].sum(), daily["failed_attempts"].sum()
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Attempts failed",
        ui.share(bad, att),
        ui.counts_of(bad, att),
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    policy = money.billing_policy(ctx.cfg)["text"] if ctx.cfg else ""
    c2.metric(
        "Spent on failed attempts",
        money.spend_text(
            failed["spend_on_failures_usd"].sum(min_count=1) if len(failed) else 0,
            int(failed["unpriced_failed_attempts"].sum()) if len(failed) else 0,
        ),
        f"{ui.count(failed['not_billed_attempts'].sum() if len(failed) else 0)} not billed",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Cost of attempts that returned an error or failed validation, under the billing "
        f"policy in force ([billing] in routeledger.toml): {policy}.",
    )
    if by_attempt:
        followed = daily["followed_by_another"].sum()
        c3.metric(
            "Attempts followed by another",
            ui.share(followed, att),
            ui.counts_of(followed, att),
            delta_color="off",
            delta_arrow="off",
            border=True,
            help="The retry share of the selected models: the share of their attempts after "
            "which the request tried again (a retry or a fallback).",
        )
    else:
        reqs = daily["requests"].sum()
        retried = (daily["retry_rate"] * daily["requests"]).sum()
        c3.metric(
            "Requests retried",
            ui.share(retried, reqs, of="requests"),
            border=True,
            help="The share of logical requests with more than one attempt.",
        )

    hourly = queries.hourly(f)
    st.subheader("Rates per local hour" if hourly else "Rates per day")
    rates = ATTEMPT_RATES if by_attempt else RATES
    ids = ["bucket", "attempts"] if by_attempt else ["bucket", "attempts", "requests"]
    long = daily.melt(id_vars=ids, value_vars=list(rates))
    long["variable"] = long["variable"].map(rates)
    if by_attempt:
        long["n"] = long["attempts"]
    else:
        long["n"] = long["requests"].where(
            long["variable"] != RATES["error_rate"], long["attempts"]
        )
    fig = px.line(
        long,
        x="bucket",
        y="value",
        color="variable",
        color_discrete_map=RATE_COLOURS,
        markers=True,
        custom_data=["n"],
        labels={"bucket": "", "value": "share", "variable": ""},
    )
    when = "%{x|%Y-%m-%d %H:00}" if hourly else "%{x|%Y-%m-%d}"
    tip = f"{when}: {ui.hover('y', 'pct')} (n={ui.hover('customdata[0]', 'count')})"
    fig.update_traces(hovertemplate=tip)
    ui.chart(
        ui.time_axis(ui.axis(fig, "y", "pct", title="share"), f),
        drill=lambda fig, p: drill.rate(f, fig, p),
        key="reliability_rates",
    )
    per = "hour" if hourly else "day"
    st.caption(
        (
            f"Per local hour in {tz}: a range of {queries.HOURLY_MAX_DAYS} days or less is drawn "
            "by the hour, where a rate-limit storm shows. "
            if hourly
            else ""
        )
        + f"Click a point of a request rate for those requests of that {per} in the request "
        "explorer; click a bar under Error classes for the requests with such a failed attempt."
    )

    colours = ui.colors(ctx, "model")
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
                color_discrete_map=colours,
                orientation="h",
                labels={"failed_attempts": "failed attempts", "error_class": "", "model": "Model"},
            )
            fig.update_traces(hovertemplate=f"%{{y}}: {ui.hover('x', 'count')} failed attempts")
            fig.update_layout(yaxis={"categoryorder": "total ascending"})
            ui.chart(
                ui.axis(fig, "x", "count"),
                drill=lambda fig, p: drill.error_class(f, fig, p),
                key="reliability_error_classes",
            )
    with right:
        if by_attempt:
            flows, name = fallbacks_from(ctx, f, colours), "fallbacks-from"
        else:
            flows, name = fallback_flows(ctx, f, colours), "fallback-flows"
    # the tables under both charts, at the page's full width
    if not errors.empty:
        st.markdown("**Failed attempts by error class and model**")
        ui.table(
            ui.explore_links(
                errors, f, lambda r: {"error_class": r["error_class"], "model": r["model"]}
            ),
            "error-classes",
        )
    if not flows.empty:
        st.markdown("**Fallback flows**")
        ui.table(flows, name)

    st.subheader("Money spent on failed attempts, per model")
    st.caption(f"Billing policy in force: {policy}. Set it per provider under [billing].")
    if not ui.no_rows(failed, "failed attempts"):
        ui.table(failed, "failed-spend")


def fallback_flows(ctx: ui.Ctx, f: queries.Filters, colours: dict[str, str]) -> pd.DataFrame:
    st.subheader("Fallbacks: first model → final model")
    flows = ui.query(ctx, queries.fallback_flows, f)
    if f.selects_models:
        st.caption("Whole requests that touched the selected " + ui.selected(f) + ".")
    if not ui.no_rows(flows, "requests that fell back"):
        fig = sankey(
            flows,
            "first_model",
            "final_model",
            "requests",
            "succeeded",
            sides=("first", "final"),
            unit="requests",
            ok_text="succeeded",
            colours=colours,
        )
        ui.chart(fig)
    return flows


def fallbacks_from(ctx: ui.Ctx, f: queries.Filters, colours: dict[str, str]) -> pd.DataFrame:
    st.subheader("Fallbacks: selected model → next model")
    flows = ui.query(ctx, queries.fallbacks_from, f)
    st.caption(
        f"The selected {ui.selected(f)}' attempts after which the request moved to another "
        "model, and that next attempt."
    )
    if not ui.no_rows(flows, "attempts followed by another model"):
        fig = sankey(
            flows,
            "from_model",
            "to_model",
            "attempts",
            "next_succeeded",
            sides=("attempt", "next"),
            unit="attempts",
            ok_text="next attempts succeeded",
            colours=colours,
        )
        ui.chart(fig)
    return flows


ui.page("Reliability", body)
