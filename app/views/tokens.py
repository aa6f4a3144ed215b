"""Tokens and cache: fresh input, cache-read, cache-write, output and reasoning tokens over time
and per model or task; the prompt cache's hit rate and what it saved at the price in force;
the gateway's own response cache; and output tokens against each task's ``max_output_tokens``
in the routing manifest, with how often answers reach that cap.

Figures are over the filtered attempts (with a provider or model filter, the selected models'
own). Attempts answered from the gateway's cache (cost 0, tokens replayed) are counted apart
from the tokens sent to a provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import drill, money, queries, ui
from app.tuner import manifest
from app.tuner.proposal import manifest_path

CLASS_COLORS = {
    "input_tokens": "#1F77B4",
    "cache_read_tokens": "#2CA02C",
    "cache_write_tokens": "#98DF8A",
    "visible_output_tokens": "#FF7F0E",
    "reasoning_tokens": "#9467BD",
}
GROUPS = {"Model": "model", "Task": "task"}


_missing = ui.missing


def _n(v: Any) -> int:
    return 0 if _missing(v) else int(v)


def output_caps(cfg: Any) -> tuple[tuple[tuple[str, int], ...], str]:
    """Each task's output-token cap from the routing manifest (``tasks.<task>.max_output_tokens``,
    else ``routing.max_output_tokens.<task>``) and a line saying where they come from, or why
    there are none."""
    path = manifest_path(cfg)
    if not path.exists():
        return (), (
            f"No routing manifest at {path}: set tuner.manifest in routeledger.toml to compare "
            "output tokens with each task's max_output_tokens."
        )
    try:
        m = manifest.load(path)
    except manifest.ManifestError as e:
        return (), f"The routing manifest cannot be read: {ui.one_line(e)}"
    caps: dict[str, int] = {}
    routing = m.doc.get("routing")
    per_task = routing.get("max_output_tokens") if isinstance(routing, Mapping) else None
    if isinstance(per_task, Mapping):
        for task, cap in per_task.items():
            if isinstance(cap, int | float) and not isinstance(cap, bool) and cap >= 1:
                caps[str(task)] = int(cap)
    for t in m.tasks.values():
        if t.max_output_tokens:
            caps[t.name] = t.max_output_tokens
    if not caps:
        return (), f"The routing manifest {path} gives no task a max_output_tokens."
    return tuple(sorted(caps.items())), f"Caps from {path}."


def body(ctx: ui.Ctx) -> None:
    assert ctx.cfg is not None and ctx.filters is not None
    f = ctx.filters
    if f.selects_models:
        st.caption(ui.counted(f))
    t = ui.query(ctx, queries.token_totals, f)
    if not t["attempts"]:
        ui.no_rows(None, "attempts")
        return
    headline(t)
    over_time(ctx, f)
    by_group(ctx, f)
    caps_section(ctx, f)


def headline(t: dict[str, Any]) -> None:
    prompt, out = _n(t["prompt_tokens"]), _n(t["output_tokens"])
    c1, c2, c3, c4, c5 = st.columns([2, 2, 2, 3, 2])  # an amount can be long
    c1.metric(
        "Prompt tokens",
        f"{prompt:,}",
        f"{_n(t['cache_read_tokens']):,} read from cache",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Fresh input, cache-read and cache-write tokens sent to providers.",
    )
    c2.metric(
        "Output tokens",
        f"{out:,}",
        f"{_n(t['reasoning_tokens']):,} reasoning",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Output tokens include reasoning tokens, however the log counted them.",
    )
    c3.metric(
        "Prompt-cache hit rate",
        ui.pct(t["cache_hit_rate"]),
        f"{_n(t['cache_read_tokens']):,} of {prompt:,}" if prompt else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Cache-read input tokens over all prompt tokens sent to providers.",
    )
    saved, more = ui.money_metric(t["prompt_cache_saved_usd"], t["cached_unpriced_attempts"])
    c4.metric(
        "Prompt cache saved",
        saved,
        more or None,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Cache-read tokens x (input price - cached input price), at the price in force "
        "when each attempt ran (its tier and discount included). Attempts that read from a "
        "cache but have no price are counted, not valued.",
    )
    hits = _n(t["gateway_cache_hits"])
    c5.metric(
        "Gateway cache hits",
        ui.pct(t["gateway_hit_rate"]),
        f"{hits:,} of {_n(t['attempts']):,} attempts",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Attempts the gateway answered from its own response cache: they cost $0. Had "
        "they gone to the provider, at the price in force they would have cost "
        + money.spend_text(t["gateway_cache_saved_usd"], t["gateway_unpriced_hits"])
        + ".",
    )


def _bucket_format(f: queries.Filters) -> str:
    return "%{x|%Y-%m-%d %H:00}" if queries.hourly(f) else "%{x|%Y-%m-%d}"


def over_time(ctx: ui.Ctx, f: queries.Filters) -> None:
    per = "local hour" if queries.hourly(f) else "local day"
    st.subheader(f"Tokens per {per}")
    df = ui.query(ctx, queries.tokens_over_time, f)
    when = _bucket_format(f)
    fig = go.Figure()
    for col, name in queries.TOKEN_CLASSES.items():
        if df[col].sum():
            fig.add_bar(
                x=df["bucket"],
                y=df[col],
                name=name,
                marker_color=CLASS_COLORS[col],
                hovertemplate=f"{when}: %{{y:,}} {name} tokens<extra></extra>",
            )
    fig.add_scatter(
        x=df["bucket"],
        y=df["cache_hit_rate"],
        name="prompt-cache hit rate",
        yaxis="y2",
        mode="lines+markers",
        line_color="#444444",
        hovertemplate=f"{when}: %{{y:.1%}} of prompt tokens read from cache<extra></extra>",
    )
    fig.update_layout(
        barmode="stack",
        bargap=0.15,
        yaxis={"title": "tokens", "tickformat": ",~r"},
        yaxis2={
            "title": "prompt-cache hit rate",
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "range": [0, max(float(df["cache_hit_rate"].max(skipna=True) or 0) * 1.15, 0.05)],
            "showgrid": False,
        },
    )
    ui.chart(ui.time_axis(fig, f), drill=drill.bucket(f), key="tokens_over_time")
    note = (
        "Gateway cache hits are left out (their tokens were replayed, not sent). Click a bar "
        f"for that {per}'s requests."
    )
    if per == "local day":
        note += f" Per local hour when the range is {queries.HOURLY_MAX_DAYS} days or less."
    st.caption(note)
    rates = ui.query(ctx, queries.cache_rate_over_time, f)
    if len(rates):
        st.subheader(f"Prompt-cache hit rate per model and {per}")
        colors = ui.colors(ctx, "model")
        fig = go.Figure()
        for model, part in ui.safe_cols(rates, "model").groupby("model", sort=False):
            fig.add_scatter(
                x=part["bucket"],
                y=part["cache_hit_rate"],
                name=str(model),
                mode="lines+markers",
                line_color=colors.get(str(model), ui.GREY),
                customdata=part[["cache_read_tokens", "prompt_tokens"]],
                hovertemplate=f"{when}: %{{y:.1%}} (%{{customdata[0]:,}} of "
                "%{customdata[1]:,} prompt tokens)<extra></extra>",
            )
        fig.update_layout(yaxis_tickformat=".0%")
        ui.chart(ui.time_axis(fig, f), height=320)


def by_group(ctx: ui.Ctx, f: queries.Filters) -> None:
    label = st.radio("Per", list(GROUPS), horizontal=True, key="tokens_group") or "Model"
    by = GROUPS[label]
    st.subheader(f"Tokens and cache per {by}")
    df = ui.query(ctx, queries.tokens_by, f, by)
    if ui.no_rows(df, "attempts"):
        return
    shown = ui.safe_cols(df, "grp").iloc[::-1]
    fig = go.Figure()
    for col, name in queries.TOKEN_CLASSES.items():
        if df[col].sum():
            fig.add_bar(
                x=shown[col],
                y=shown["grp"],
                orientation="h",
                name=name,
                marker_color=CLASS_COLORS[col],
                hovertemplate=f"%{{y}}: %{{x:,}} {name} tokens<extra></extra>",
            )
    fig.update_layout(barmode="stack", xaxis_tickformat=",~r", yaxis_type="category")
    ui.chart(fig, height=90 + 30 * len(df), drill=drill.category(f, by), key=f"tokens_by_{by}")
    table = df.drop(columns=["prompt_tokens", "output_tokens"]).rename(columns={"grp": by})
    ui.table(ui.explore_links(table, f, lambda r: {by: r[by]}), f"tokens-by-{by}")
    st.caption(
        "Prompt cache saved: cache-read tokens x (input price - cached input price) at the "
        "price in force; unpriced where an attempt that read from a cache has no price. "
        "Gateway cache saved: what the gateway's cache hits would have cost at that price."
    )


def caps_section(ctx: ui.Ctx, f: queries.Filters) -> None:
    assert ctx.cfg is not None
    st.subheader("Output tokens against each task's cap")
    caps, source = output_caps(ctx.cfg)
    st.caption(
        source + " An answer is an attempt that returned output (gateway cache hits left out); "
        "it reached the cap when its output tokens (reasoning included) are at least the cap: "
        "likely cut short."
    )
    df = ui.query(ctx, queries.output_caps, f, caps)
    if ui.no_rows(df, "answers"):
        return
    tasks = df[df["is_task_total"]]
    capped = tasks[tasks["max_output_tokens"].notna()]
    if len(capped):
        at_cap, answers = int(capped["at_cap"].sum()), int(capped["answers"].sum())
        st.metric(
            "Answers that reached their task's cap",
            ui.pct(at_cap / answers if answers else None),
            f"{at_cap:,} of {answers:,} answers of tasks with a cap",
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
    ui.chart(caps_chart(tasks), height=360)
    ui.table(df.drop(columns="is_task_total"), "output-caps")


def caps_chart(tasks: pd.DataFrame) -> go.Figure:
    """Per task: P50 and P95 output tokens as bars, the cap as a marker, the share of answers
    at the cap in the hover."""
    x = ui.safe(tasks["task"].astype(str))
    hit = [
        "no cap" if _missing(r) else f"{float(r):.1%} of answers at the cap"
        for r in tasks["cap_hit_rate"]
    ]
    fig = go.Figure()
    for col, name, color in (
        ("p50_output_tokens", "P50 output", "#AEC7E8"),
        ("p95_output_tokens", "P95 output", "#1F77B4"),
    ):
        fig.add_bar(
            x=x,
            y=tasks[col],
            name=name,
            marker_color=color,
            customdata=hit,
            hovertemplate=f"%{{x}}: {name} %{{y:,.0f}} tokens; %{{customdata}}<extra></extra>",
        )
    if tasks["max_output_tokens"].isna().all():
        fig.update_layout(barmode="group", yaxis_tickformat=",~r", yaxis_title="output tokens")
        return fig
    fig.add_scatter(
        x=x,
        y=tasks["max_output_tokens"],
        name="max_output_tokens",
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 40, "line": {"width": 3}, "color": "#D62728"},
        customdata=hit,
        hovertemplate="%{x}: cap %{y:,} tokens; %{customdata}<extra></extra>",
    )
    fig.update_layout(barmode="group", yaxis_tickformat=",~r", yaxis_title="output tokens")
    return fig


ui.page("Tokens and cache", body, note="What the tokens were, and what the caches saved.")
