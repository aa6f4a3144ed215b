"""Reconciliation: the providers' bills (imported usage and cost exports) against RouteLedger's
recomputed cost and the gateway's reported cost, per UTC day, provider and model: the drift over
time, the table, and where the gap comes from (origins, token classes)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import bills, queries, ui


def drift_chart(ctx: ui.Ctx, days: pd.DataFrame) -> go.Figure:
    """The drift (billed minus recomputed) per UTC day, one line per provider."""
    colors = ui.colors(ctx, "provider")
    fig = go.Figure()
    for provider, part in days.groupby("provider", sort=True):
        name = ui.safe(str(provider))
        fig.add_trace(
            go.Scatter(
                x=part["day"],
                y=part["drift_usd"].astype(float),
                name=name,
                mode="lines+markers",
                line={"color": colors.get(name)},
                customdata=part[["billed_usd", "recomputed_usd"]].astype(float),
                hovertemplate="%{x|%b %d}: drift $%{y:,.2f}<br>billed $%{customdata[0]:,.2f}, "
                "recomputed $%{customdata[1]:,.2f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.add_hline(y=0, line={"color": ui.GREY, "width": 1})
    fig.update_layout(title="Drift per UTC day: billed minus recomputed")
    return ui.axis(fig, "y", "usd", "drift")


def body(ctx: ui.Ctx) -> None:
    span = ui.query(ctx, queries.bill_span)
    if span["first"] is None:
        st.info(f"No provider bill has been imported yet. {bills.IMPORT_HELP}")
        return
    assert ctx.filters is not None
    f = ctx.filters
    days = ui.query(ctx, queries.bill_days, f.since, f.until, f.providers)
    if days.empty:
        st.info(
            f"No bill covers {f.since} .. {f.until}: the bills cover {span['first']} .. "
            f"{span['last']} (UTC days) for {', '.join(span['providers'])}. {bills.IMPORT_HELP}"
        )
        return
    billed = days["billed_usd"].sum()
    recomputed = days["recomputed_usd"].sum()
    drift = billed - recomputed
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Billed", ui.usd(billed), border=True)
    c2.metric("Recomputed by RouteLedger", ui.usd(recomputed), border=True)
    c3.metric("Drift", bills.signed_usd(drift), border=True)
    c4.metric("Drift share", bills.share(drift / billed if billed else None), border=True)
    st.caption(
        "Days are UTC days, as the providers bill them. Drift is billed minus recomputed: "
        "positive when the provider billed more than RouteLedger computed from the logs."
    )
    ui.chart(drift_chart(ctx, days))

    st.subheader("Where the drift comes from")
    origins = ui.query(ctx, queries.bill_origins, f.since, f.until, f.providers)
    origins = origins.assign(why=[bills.origin_text(o) for o in origins["origin"]])
    ui.table(origins[["provider", "origin", "why", "rows", "billed_usd", "drift_usd"]], "origins")
    classes = ui.query(ctx, queries.bill_classes, f.since, f.until, f.providers)
    if not classes.empty:
        st.markdown("**Per token class** (bills that name models and token classes)")
        ui.table(classes, "token-classes")

    st.subheader("Per day, provider and model")
    models = ui.query(ctx, queries.bill_models, f.since, f.until, f.providers)
    models = models.assign(why=[bills.origin_text(o) for o in models["origin"]])
    cols = ["day", "provider", "model", "billed_usd", "recomputed_usd", "reported_usd",
            "drift_usd", "drift_share", "reported_drift_share", "why", "attempts",
            "failed_attempts", "unpriced_attempts", "billed_tokens", "gateway_tokens", "exports"]  # fmt: skip
    ui.table(models[cols], "bill-reconciliation")


ui.page(
    "Reconciliation",
    body,
    needs_attempts=False,
    note="The providers' bills against RouteLedger's recomputed cost and the gateway's "
    "reported cost. The provider filter applies; the days are the sidebar's, as UTC days.",
)
