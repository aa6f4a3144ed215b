"""Request explorer: the logical requests behind the figures, with the sidebar's filters (days,
provider, model, task, team) and a narrowing of its own (outcome, retried, fell back, error
class, local hour, API key alias, user), newest first, a page at a time. Selecting a request
shows its attempt chain: when each attempt started and how long it ran, on which provider and
model, its outcome and error, its tokens and its cost with the basis of that cost.

The narrowing lives in the page's address (``?status=failed&error_class=rate_limit&hour=14``),
beside the sidebar's filters (``since``, ``until``, ``provider``, ``model``, ``task``,
``team``), so another page links here with :func:`app.queries.explorer_params` (for
``st.page_link``) or :func:`app.queries.explorer_url`. A second tab shows spend by API key,
user, team and task.

Strings from the logs (error text, model names, ids) are shown as data: in tables, as plotly
labels escaped with ``ui.safe``, never as Markdown."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import drill, money, queries, ui
from collectors.records import ERROR_CLASSES

ROWS_KEY = "rl_explorer_rows"  # the request table (its key names its selection's state)
IDS_KEY = "rl_explorer_ids"  # the ids of the rows the table shows, for its selection
PAGE_KEY = "rl_explorer_page"
REQUEST_KEY = "request"  # also the query parameter that opens a request
SPEND_BY_KEY = "rl_spend_by"
OUTCOME_COLORS = {"succeeded": "#2CA02C", "failed": "#D62728"}
SPEND_BY = {
    "API key": "key",
    "User": "user",
    "Team": "team",
    "Task": "task",
    "Agent": "agent",
    "Conversation": "conversation",
}
SPEND_HEADINGS = {
    "key": "API key",
    "user": "user",
    "team": "team",
    "task": "task",
    "agent": "agent",
    "conversation": "conversation",
}
ANY = "any"


def _label(v: Any) -> str:
    return ANY if v is None else str(v)


_missing = ui.missing


def narrowing() -> queries.Narrowing:
    """The page's own narrowing; each control is bound to the query parameter of its name."""
    c1, c2, c3, c4, c5 = st.columns(5)
    status = c1.selectbox(
        "Outcome",
        [None, *queries.OUTCOMES],
        format_func=_label,
        key="status",
        bind="query-params",
        help="Succeeded: the request's last attempt succeeded.",
    )
    retried = c2.selectbox(
        "Retried",
        [None, *queries.YES_NO],
        format_func=_label,
        key="retried",
        bind="query-params",
        help="More than one attempt.",
    )
    fell_back = c3.selectbox(
        "Fell back",
        [None, *queries.YES_NO],
        format_func=_label,
        key="fell_back",
        bind="query-params",
        help="The final attempt's model differs from the first attempt's.",
    )
    error_class = c4.selectbox(
        "Error class",
        [None, *ERROR_CLASSES],
        format_func=_label,
        key="error_class",
        bind="query-params",
        help="Requests with a failed attempt of this class (on a selected provider and model, "
        "when the sidebar selects some).",
    )
    hour = c5.selectbox(
        "Local hour",
        [None, *range(24)],
        format_func=_label,
        key="hour",
        bind="query-params",
        help="The hour of the day (calendar.timezone) the request started in, 0-23.",
    )
    with st.expander("API key, user, agent and conversation"):
        k1, k2, k3, k4 = st.columns(4)
        key_alias = k1.text_input("Key alias", key="key_alias", bind="query-params")
        user = k2.text_input("User", key="user", bind="query-params")
        agent = k3.text_input(
            "Agent",
            key="agent",
            bind="query-params",
            help="The agent whose run made the call (gen_ai.agent.name, OpenInference agent.name).",
        )
        conversation = k4.text_input(
            "Conversation",
            key="conversation",
            bind="query-params",
            help="The conversation or session the call belongs to (gen_ai.conversation.id, "
            "session.id).",
        )
    return queries.Narrowing(
        status=status,
        retried=retried,
        fell_back=fell_back,
        error_class=error_class,
        hour=hour,
        key_alias=key_alias.strip() or None,
        user=user.strip() or None,
        agent=agent.strip() or None,
        conversation=conversation.strip() or None,
    )


def body(ctx: ui.Ctx) -> None:
    assert ctx.cfg is not None and ctx.filters is not None
    requests_tab, spend_tab = st.tabs(
        ["Requests", "Spend by key, user, team, task, agent and conversation"]
    )
    with requests_tab:
        explorer(ctx, ctx.filters, ctx.cfg.timezone)
    with spend_tab:
        spend_by(ctx)


def explorer(ctx: ui.Ctx, f: queries.Filters, tz: str) -> None:
    st.caption(
        f"Logical requests from {f.since} to {f.until} ({tz}) with the sidebar's filters: a "
        "request matches a provider when its first or final attempt ran there, a model when "
        "any of its attempts did. Narrow them further here; the address of this page keeps "
        "the narrowing, so it can be shared."
    )
    n = narrowing()
    s = ui.query(ctx, queries.explorer_summary, f, n, tz)
    total = int(s["requests"])
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Requests",
        f"{total:,}",
        f"{int(s['succeeded']):,} succeeded" if total else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    spend, unpriced = ui.money_metric(s["spend_usd"], s["unpriced_attempts"])
    c2.metric(
        "Spend",
        spend if total else "-",
        (unpriced or f"{int(s['attempts']):,} attempts") if total else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="The cost of these requests' attempts; unpriced attempts are counted, never $0.",
    )
    for col, name, key in ((c3, "Retried", "retried"), (c4, "Fell back", "fell_back")):
        col.metric(
            name,
            ui.pct(s[key] / total if total else None),
            f"{int(s[key]):,} of {total:,}" if total else None,
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
    if not total:
        ui.no_rows(None, "requests")
        attempt_chain(ctx)
        return
    over_time(ctx, f, n, tz)
    request_list(ctx, f, n, tz, total)
    attempt_chain(ctx)


def over_time(ctx: ui.Ctx, f: queries.Filters, n: queries.Narrowing, tz: str) -> None:
    per = "local hour" if queries.hourly(f) else "local day"
    st.subheader(f"Requests per {per}")
    df = ui.query(ctx, queries.explorer_over_time, f, n, tz)
    fig = go.Figure()
    for outcome, color in OUTCOME_COLORS.items():
        part = df[df["outcome"] == outcome]
        if len(part):
            fig.add_bar(
                x=part["bucket"],
                y=part["requests"],
                name=outcome,
                marker_color=color,
                hovertemplate=("%{x|%Y-%m-%d %H:00}" if per == "local hour" else "%{x|%Y-%m-%d}")
                + f": %{{y:,}} requests {outcome}<extra></extra>",
            )
    fig.update_layout(barmode="stack", bargap=0.15, yaxis_tickformat=",~r")
    ui.chart(ui.time_axis(fig, f), height=260)
    if per == "local day":
        st.caption(
            f"Per local hour when the sidebar's range is {queries.HOURLY_MAX_DAYS} days or less."
        )


def request_list(
    ctx: ui.Ctx, f: queries.Filters, n: queries.Narrowing, tz: str, total: int
) -> None:
    st.subheader("Requests")
    pages = max(math.ceil(total / queries.EXPLORER_PAGE_SIZE), 1)
    scope = abs(hash((f, n)))  # a control per filters and narrowing: new ones start on page 1
    left, right = st.columns([3, 2], vertical_alignment="center")
    page = 1
    if pages > 1:
        with right:
            page = int(st.pagination(pages, key=f"{PAGE_KEY}-{scope}", max_visible_pages=7))
    page = min(max(page, 1), pages)
    df = ui.query(ctx, queries.explorer_requests, f, n, tz, page)
    first = (page - 1) * queries.EXPLORER_PAGE_SIZE + 1
    left.caption(
        f"Requests {first:,}-{first + len(df) - 1:,} of {total:,}, newest first. Select a row "
        "to see its attempts."
    )
    st.session_state[IDS_KEY] = dict(
        zip(df["logical_request_id"], (d.date() for d in df["local_day"]), strict=True)
    )
    shown = ui.clean_cells(
        df.assign(
            cost=[
                money.spend_text(c, u, attempts=a)
                for c, u, a in zip(
                    df["cost_usd"], df["unpriced_attempts"], df["attempts"], strict=True
                )
            ]
        ).drop(columns=["cost_usd", "unpriced_attempts", "local_day"])
    )
    config = ui.column_config(shown)
    config["started_local"] = st.column_config.DatetimeColumn(
        f"Started ({tz})", format="YYYY-MM-DD HH:mm:ss", pinned=True
    )
    config["cost"] = st.column_config.TextColumn(
        "Cost", help="Sum of its attempts' costs; unpriced attempts are counted, never $0."
    )
    st.session_state[ROWS_KEY] = table = f"{ROWS_KEY}-{scope}-{page}"
    st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        key=table,
        on_select=_pick,
        selection_mode="single-row",
        height=min(35 * (len(shown) + 1) + 3, 35 * 16 + 3),
        placeholder="—",
    )


def _pick() -> None:
    """A row selected in the request table: open that request."""
    state = st.session_state.get(st.session_state.get(ROWS_KEY, ""))
    rows = state["selection"]["rows"] if state is not None else []
    ids = list(st.session_state.get(IDS_KEY, {}))
    if rows and rows[0] < len(ids):
        st.session_state[REQUEST_KEY] = ids[rows[0]]


def attempt_chain(ctx: ui.Ctx) -> None:
    st.subheader("Attempt chain")
    rid = st.text_input(
        "Logical request id",
        key=REQUEST_KEY,
        bind="query-params",
        placeholder="Select a request above, or paste its id",
    ).strip()
    if not rid:
        st.caption("Each attempt of the selected request: timings, outcome, tokens and cost.")
        return
    ids = st.session_state.get(IDS_KEY, {})
    attempts = ui.query(ctx, queries.request_attempts, rid, ids.get(rid))
    if attempts.empty:
        st.info("No logical request with that id.")
        return
    if rid not in ids:
        st.caption("This request is not on the page of requests shown above.")
    last = attempts.iloc[-1]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Outcome", "succeeded" if last["status"] == "success" else "failed", border=True)
    unlogged = int(attempts["unlogged_attempts"].fillna(0).iloc[0])
    c2.metric(
        "Attempts",
        f"{len(attempts) + unlogged:,}",
        f"{unlogged:,} not in the log" if unlogged else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Attempts the gateway made. Some gateways log fewer than they make (LiteLLM logs a "
        "request's first failure, and its success says how many tries it took): those are "
        "counted but have no row below.",
    )
    span = attempts["start_offset_ms"] + attempts["duration_ms"]
    c3.metric("Latency", f"{span.max():,.0f} ms", border=True, help="First start to last end.")
    unpriced = int((attempts["cost_basis"] == "unpriced").sum())
    cost, more = ui.money_metric(attempts["cost_usd"].sum(min_count=1), unpriced)
    c4.metric(
        "Cost",
        cost,
        more or None,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="The sum of its attempts' costs; the table gives each one's basis.",
    )
    st.caption(
        "Task "
        + ", ".join(sorted(set(attempts["task"].astype(str))))
        + " · team "
        + ", ".join(sorted(set(attempts["team"].astype(str))))
    )
    ui.chart(timeline(ctx, attempts), height=90 + 40 * len(attempts))
    table = attempts.assign(
        gateway_reported=[
            "not reported" if _missing(v) else money.usd(v) for v in attempts["reported_cost_usd"]
        ]
    ).drop(columns=["reported_cost_usd", "task", "team", "unlogged_attempts"])
    ui.table(table, "request-attempts")
    st.caption(
        "Cost basis: computed (tokens at the price in force), reported (the gateway's cost), "
        "not_billed (a failure the billing policy does not bill), cache_hit (the gateway's "
        "own cache: $0), unpriced (no price and no reported cost: counted, never $0). Error "
        "text is shown as logged, with secrets redacted at ingest."
    )


def timeline(ctx: ui.Ctx, attempts: pd.DataFrame) -> go.Figure:
    """One bar per attempt from its start to its end (ms after the request's first start),
    coloured by model; failed attempts hatched."""
    colors = ui.colors(ctx, "model")
    df = attempts.assign(
        model_label=ui.safe(attempts["model"].astype(str)),
        row=[f"#{i}" for i in attempts["attempt_index"]],
        what=[
            "success"
            if s == "success"
            else ui.safe(str(e if isinstance(e, str) else "other"))
            + ("" if _missing(h) else f" (HTTP {int(h)})")
            for s, e, h in zip(
                attempts["status"], attempts["error_class"], attempts["http_status"], strict=True
            )
        ],
    )
    fig = go.Figure()
    for model, part in df.groupby("model_label", sort=False):
        fig.add_bar(
            y=part["row"],
            x=part["duration_ms"],
            base=part["start_offset_ms"],
            orientation="h",
            name=str(model),
            marker_color=colors.get(str(model), ui.GREY),
            marker_pattern_shape=["" if s == "success" else "/" for s in part["status"]],
            customdata=part[["what", "duration_ms", "model_label"]],
            hovertemplate="%{y} %{customdata[2]}: %{customdata[0]}<br>from %{base:,.0f} ms, "
            "ran %{customdata[1]:,.0f} ms<extra></extra>",
        )
    fig.update_layout(
        barmode="overlay",
        xaxis_title="ms after the request's first start",
        xaxis_tickformat=",~r",
        yaxis={"autorange": "reversed", "title": None, "type": "category"},
    )
    return fig


def spend_by(ctx: ui.Ctx) -> None:
    f = ui.count_control(ctx)
    by = st.radio("By", list(SPEND_BY), horizontal=True, key=SPEND_BY_KEY) or "API key"
    df = ui.query(ctx, queries.spend_by, f, SPEND_BY[by])
    st.subheader(f"Spend by {SPEND_HEADINGS[SPEND_BY[by]]}")
    if f.per_attempt:
        st.caption(ui.counted(f) + " Cost per success: their cost over their successful attempts.")
    else:
        st.caption(
            "Cost per success: the cost of the group's logical requests (failed attempts and "
            "retries included) over those that succeeded, priced requests only, with their "
            "coverage. A key without an alias shows the start of its hash."
        )
    if ui.no_rows(df, "attempts"):
        return
    groups = int(df["groups"].iloc[0])
    if groups > len(df):
        st.caption(f"The {len(df):,} biggest spenders of {groups:,}.")
    top = df.head(15).iloc[::-1]
    known = [0.0 if _missing(v) else float(v) for v in top["spend_usd"]]
    if any(known):  # the known part of each spend as a bar, the whole figure as its label
        fig = go.Figure(
            go.Bar(
                x=known,
                y=ui.safe(top["grp"].astype(str)),
                orientation="h",
                text=[
                    money.spend_text(v, u)
                    for v, u in zip(top["spend_usd"], top["unpriced_attempts"], strict=True)
                ],
                textposition="outside",
                cliponaxis=False,
                marker_color="#1F77B4",
                hovertemplate="%{y}: %{text}<extra></extra>",
            )
        )
        fig.update_layout(  # room on the right for the labels
            xaxis={"tickprefix": "$", "tickformat": ",~r", "range": [0, max(known) * 1.45]},
            yaxis_type="category",
        )
        ui.chart(fig, height=80 + 28 * len(top))
    table = df.drop(columns="groups").rename(columns={"grp": SPEND_BY[by]})
    ui.table(
        ui.explore_links(table, f, lambda r: drill.spend_by_row(SPEND_BY[by], r[SPEND_BY[by]])),
        f"spend-by-{SPEND_BY[by]}",
    )


ui.page(
    "Request explorer",
    body,
    note="From a figure to the requests behind it, and each request's attempts.",
)
