"""Prices: the prices in force with their sources, a model's price history, recent changes,
changes held for review and logged models that no price matches."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import queries, ui


def steps(history: pd.DataFrame) -> pd.DataFrame:
    """Price versions as step points: each version from its start, the last held until its end
    (or now)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for source, part in history.groupby("source", sort=False):
        for r in part.itertuples():
            for dim in ("input", "output"):
                rows.append((source, dim, r.valid_from, getattr(r, f"{dim}_per_mtok")))
        last = part.iloc[-1]
        end = last["valid_to"] if pd.notna(last["valid_to"]) else now
        for dim in ("input", "output"):
            rows.append((source, dim, end, last[f"{dim}_per_mtok"]))
    return pd.DataFrame(rows, columns=["source", "price", "at", "usd_per_mtok"])


def history_chart(ctx: ui.Ctx, points: pd.DataFrame) -> go.Figure:
    """Input and output price per source over time, each source in its colour on every chart,
    dollars at one precision."""
    fig = px.line(
        ui.safe_cols(points, "source"),
        x="at",
        y="usd_per_mtok",
        color="source",
        color_discrete_map=ui.colors(ctx, "source"),
        line_dash="price",
        line_shape="hv",
        markers=True,
        labels={"at": "", "usd_per_mtok": "per 1M tokens", "source": "Source", "price": "Price"},
    )
    money = ui.hover("y", "usd", ui.usd_decimals(points["usd_per_mtok"]))
    fig.update_traces(hovertemplate=f"%{{x|%Y-%m-%d %H:%M}} UTC: {money} per 1M tokens")
    return ui.axis(fig, "y", "usd", title="per 1M tokens")


def body(ctx: ui.Ctx) -> None:
    f = ctx.filters or queries.Filters(ctx.today, ctx.today)
    c1, c2 = st.columns([3, 2])
    search = c1.text_input("Model id contains", key="prices_search", placeholder="e.g. gpt-4o")
    used = c2.toggle(
        "Only models seen in the logs",
        value=bool(ctx.state.get("attempts")),
        key="prices_used",
        help="Prices matched to a logged model (and to the sidebar's provider and model filters).",
    )

    st.subheader("In force now")
    current = ui.query(ctx, queries.current_prices, f, search or "", used)
    if not ui.no_rows(current, "prices"):
        st.caption(
            "USD per million tokens. Every source's current price is listed; `wins` marks the "
            "one that prices attempts (override > provider page > OpenRouter > LiteLLM > catalog)."
        )
        ui.table(current, "current-prices", height=320)

        st.subheader("History of a model")
        models = current[current["wins"]][["provider", "model_id"]].drop_duplicates()
        names = (models["provider"] + " / " + models["model_id"]).tolist()
        picked = st.selectbox("Model", names, key="prices_model")
        if picked:
            provider, model_id = models.iloc[names.index(picked)]
            history = ui.query(ctx, queries.price_history, provider, model_id)
            if not ui.no_rows(history, "standard prices of this model"):
                ui.chart(history_chart(ctx, steps(history)), height=320)

    st.subheader("Recent changes")
    changes = ui.query(ctx, queries.price_changes, f, search or "", used)
    if not ui.no_rows(changes, "price changes"):
        ui.table(changes, "price-changes", height=280)

    st.subheader("Held for review")
    reviews = ui.query(ctx, queries.pending_reviews)
    if reviews.empty:
        st.success("No price change is waiting for review.")
    else:
        st.caption(
            "The last known price stays in force until a person decides: "
            "`routeledger prices confirm MODEL [--source S] [--reject]`."
        )
        ui.table(reviews, "price-reviews", height=280)

    st.subheader("Logged models without a price")
    if ctx.state.get("attempts"):
        unmatched = ui.query(ctx, queries.unpriced_models, f)
        if unmatched.empty:
            st.success("Every logged model has a price.")
        else:
            st.caption(
                "Counted, never summed as $0. Add an alias (prices.aliases) or a price "
                "override; `routeledger prices unmatched` lists the same."
            )
            ui.table(unmatched, "unpriced-models")


ui.page(
    "Prices",
    body,
    needs_attempts=False,
    note="Provider and model filters apply (a model through the price it matched); "
    "days, task and team do not.",
)
