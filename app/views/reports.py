"""Reports: the saved weekly cost reports with a preview and "send now", their deliveries, and
the budget alerts sent.

The preview shows the saved report.html in an iframe: it is RouteLedger's own HTML, with every
string from logs autoescaped when it was rendered, and it carries no script.

Building and sending change things (files, the warehouse, other people's inboxes), so when the
dashboard listens beyond localhost they need the same sign-in as approving a manifest
(:func:`app.ui.may_act`), and inside a frame of another page they are off
(:func:`app.ui.not_framed`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from app import money, queries, ui
from app.reports import past_reports
from app.reports.build import last_complete_week
from app.reports.deliver import email_configured, webhook_configured, webhook_target
from app.reports.render import FILES, signed_pct
from collectors.config import Config
from collectors.errors import RouteLedgerError

PREVIEW_HEIGHT = 900
CLI_TIMEOUT_SECONDS = 300


def _channels(cfg: Config) -> str:
    parts = []
    if email_configured(cfg):
        parts.append("e-mail to " + ", ".join(cfg.get("delivery.recipients")))
    if webhook_configured(cfg):
        parts.append("webhook at " + webhook_target(cfg.get("delivery.webhook_url")))
    return " and ".join(parts)


def _cli(cfg: Config, *args: str) -> dict[str, Any]:
    """``routeledger report weekly ARGS --json`` in its own process: the build writes to the
    warehouse, and DuckDB refuses a writer beside this server's read-only connections."""
    cmd = [
        sys.executable,
        "-m",
        "app.cli",
        "--home",
        str(cfg.home),
        "report",
        "weekly",
        *args,
        "--json",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS)
    lines = [line for line in p.stderr.splitlines() if line.startswith("routeledger: error:")]
    if p.returncode not in (0, 1) or not p.stdout.strip():
        raise RouteLedgerError(lines[-1] if lines else f"report weekly exited with {p.returncode}")
    return dict(json.loads(p.stdout))


def _send(cfg: Config, week: str) -> None:
    with st.spinner(f"Building and sending {week}..."):
        res = _cli(cfg, "--week", week, "--send")
    for d in res["deliveries"]:
        if d["status"] == "sent":
            st.success(f"Sent by {d['channel']} to {d['target']}.")
        else:
            st.error(f"{d['channel']} to {d['target']} failed: {d['detail']}")


def body(ctx: ui.Ctx) -> None:
    assert ctx.cfg is not None
    cfg = ctx.cfg
    reports = past_reports(cfg)
    last = last_complete_week(cfg).label
    c1, c2 = st.columns([3, 1])
    channels = _channels(cfg)
    c1.caption(
        f"Delivery: {channels}."
        if channels
        else "No delivery configured: set "
        "delivery.recipients with [delivery.smtp], or delivery.webhook_url (see README)."
    )
    top = ui.not_framed()  # inside another page's frame (clickjacking), nothing changes
    allowed = top and ui.may_act()  # beyond localhost, a signed-in approver builds and sends
    if top and not allowed:
        c1.caption(
            "This dashboard listens beyond localhost: sign in on the Routing page to build "
            "or send a report."
        )
    if (
        c2.button(
            f"Build {last}", icon=":material/summarize:", width="stretch", disabled=not allowed
        )
        and allowed
    ):
        with st.spinner(f"Building {last}..."):
            _cli(cfg, "--week", last)
        st.rerun()
    if not reports:
        st.info(
            "No report saved yet. The scheduler (`routeledger serve`) builds one every week; "
            "`routeledger report weekly` builds one now."
        )
    else:
        weeks = [r["week"] for r in reports]
        week = st.selectbox("Week", weeks, key="reports_week")
        r = reports[weeks.index(week)] if week in weeks else reports[0]
        m1, m2 = st.columns(2)
        m1.metric(
            "Spend",
            money.spend_text(r["spend_usd"], r.get("unpriced_attempts")),
            border=True,
            delta=None if r["change_pct"] is None else signed_pct(r["change_pct"]),
            delta_color="inverse",
        )
        m2.metric("Requests", f"{int(r['logical_requests'] or 0):,}", border=True)
        built = str(r["generated_at"] or "")[:16].replace("T", " ")
        st.caption(f"Local days {r['since']} to {r['until']}; built {built} UTC.")
        folder = Path(r["folder"])
        b1, b2, b3, b4 = st.columns(4)
        for col, kind, mime in (
            (b1, "html", "text/html"),
            (b2, "text", "text/plain"),
            (b3, "csv", "text/csv"),
        ):
            path = folder / FILES[kind]
            if path.is_file():
                col.download_button(
                    f"Download {path.name}",
                    data=path.read_bytes(),
                    file_name=path.name,
                    mime=mime,
                    key=f"dl-{kind}-{week}",
                    on_click="ignore",
                )
        send = b4.button(
            "Send now",
            type="primary",
            icon=":material/send:",
            disabled=not channels or not allowed,
            key=f"send-{week}",
        )
        if send and allowed:
            _send(cfg, r["week"])
        html_file = folder / FILES["html"]
        if html_file.is_file():
            st.subheader("Preview")
            components.html(
                html_file.read_text(encoding="utf-8"), height=PREVIEW_HEIGHT, scrolling=True
            )

    st.subheader("Deliveries")
    sent = (
        pd.DataFrame(ui.query(ctx, queries.report_deliveries))
        if ctx.has_warehouse
        else pd.DataFrame()
    )
    if sent.empty:
        st.info("No report has been sent yet.")
    else:
        ui.table(sent, "report-deliveries", height=240)

    st.subheader("Budget alerts")
    alerts = (
        pd.DataFrame(ui.query(ctx, queries.budget_alerts)) if ctx.has_warehouse else pd.DataFrame()
    )
    if alerts.empty:
        st.info(
            "No budget alert this far. Budgets: budget.monthly_usd, [budget.teams], "
            "[budget.tasks]; thresholds: budget.alert_thresholds."
        )
    else:
        ui.table(alerts, "budget-alerts", height=240)


ui.page(
    "Reports",
    body,
    needs_attempts=False,
    note="Weekly cost reports saved under the home's reports/ folder; the scheduler sends each "
    "week once, Send now sends again.",
)
