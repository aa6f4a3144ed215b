"""Routing: the tuner's proposal for the routing manifest, and its approval.

Per task the current and proposed chains side by side with their estimates and reasons, the
cost-versus-success frontier of the candidate chains (the chosen one marked), the savings with
their bootstrap interval, and the unified diff of the manifest. Approve (with a comment) writes
the manifest atomically and records the decision; Reject records it; Decisions lists every
approval, rejection and rollback (who, when, what, the comment), newest first, and a proposal
already rejected (the same text over the same manifest) is said to be so, by whom and why;
History lists every stored version with a rollback.

When the dashboard listens beyond localhost (``server.address`` is not a loopback address; an
unset address means every interface), or a request reaches it through a proxy or under another
host name (:func:`app.ui.exposed`), approving, rejecting and rolling back need an
authenticated person: OIDC through ``st.login`` when ``[auth]`` is configured in Streamlit's
secrets, else a user of ``dashboard.approvers`` with a password (throttled per name across
sessions and processes, :class:`app.tuner.auth.Throttle`); otherwise they are refused. Shown
inside a frame of another page (clickjacking), the page offers no decision at all
(:func:`app.ui.not_framed`).
Strings from logs and the manifest reach the screen as plain text, dataframes, escaped plotly
labels and Markdown-escaped expander labels (:func:`app.ui.md_text`) only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import ui
from app.tuner import approvals, auth
from app.tuner.proposal import manifest_path, propose, window
from collectors import config as config_mod
from collectors.config import Config

AUTH_KEY = ui.SIGNED_IN_KEY
FLASH_KEY = "rl_routing_flash"


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


@st.cache_data(
    ttl=ui.CACHE_TTL_SECONDS, show_spinner="Regenerating the routing manifest...", max_entries=8
)
def _proposal(
    home: str, stamp: tuple[float, ...], since: date | None, until: date | None
) -> dict[str, Any]:
    """Everything the page shows, as plain data (keyed on the warehouse's and manifest's mtimes)."""
    cfg = config_mod.load(home)
    p = propose(cfg, None, since, until)
    frontier = {
        r.task: [
            {
                "chain": c.label,
                "length": len(c.chain),
                "success": c.success,
                "success_low": c.success_low,
                "cost_per_success_usd": c.cost_per_success,
                "chosen": c.chain == r.proposed_chain,
                "current": c.chain == r.current_chain,
            }
            for c in r.candidates
            if c.cost_per_success < float("inf")
        ]
        for r in p.tasks
    }
    return {
        "json": p.as_json(),
        "text": p.text,
        "diff": p.diff,
        "frontier": frontier,
        "manifest_sha256": p.manifest.sha256,
        "since": p.since,
        "until": p.until,
    }


def _chain(chain: list[str]) -> str:
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
        hovertemplate="%{text}<br>$%{x:.6f} per success<br>success low %{y:.2%}<extra></extra>",
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
                hovertemplate="%{text}<br>$%{x:.6f} per success<br>success low %{y:.2%}<extra></extra>",
            )
    if target:
        fig.add_hline(y=target, line_dash="dot", annotation_text="success target")
    fig.update_layout(
        xaxis_title="cost per successful request ($)",
        yaxis_title="success (Wilson lower bound)",
        yaxis_tickformat=".1%",
    )
    return fig


def _task(t: dict[str, Any], frontier: list[dict[str, Any]], target: float | None) -> None:
    left, right = st.columns(2)
    cur, sav = t.get("current_estimate") or {}, t.get("savings") or {}
    with left:
        st.caption("Current chain")
        st.text(_chain(t["current_chain"]))
        st.metric(
            "Cost per success (now)",
            ui.usd(cur.get("cost_per_successful_request_usd")),
            border=True,
        )
        st.text(
            f"success {ui.pct(cur.get('estimated_success'))} "
            f"(low {ui.pct(cur.get('estimated_success_low'))}), P95 {ui.ms(cur.get('p95_ms'))}"
        )
    with right:
        st.caption(f"Proposed chain · {t['status']}")
        st.text(_chain(t["proposed_chain"]))
        st.metric(
            "Cost per success (proposed)",
            ui.usd(t.get("cost_per_successful_request_usd")),
            border=True,
        )
        st.text(
            f"success {ui.pct(t.get('estimated_success'))} "
            f"(low {ui.pct(t.get('estimated_success_low'))}), P95 {ui.ms(t.get('p95_ms'))}"
        )
    if sav.get("savings_usd") is not None:
        st.text(
            f"Replayed over the window: {ui.usd(sav['savings_usd'])} saved "
            f"(95% interval {ui.usd(sav['low_usd'])} .. {ui.usd(sav['high_usd'])})"
        )
    st.text("\n".join(f"• {r}" for r in t["reasons"]))
    if frontier:
        ui.chart(_frontier(frontier, target), height=320)


# -- who is deciding ------------------------------------------------------------------------------


def _oidc() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001  (no secrets file at all)
        return False


def identity(cfg: Config) -> tuple[str, str] | None:
    """(who, how authenticated) of the person deciding, or None when they may not decide."""
    address = st.get_option("server.address")
    if not ui.exposed():
        name = st.text_input(
            "Your name (recorded with the decision)",
            value=approvals.current_user(),
            key="rl_routing_name",
        )
        return (name.strip() or approvals.current_user(), "local")
    if _oidc():
        if not st.user.get("is_logged_in", False):
            st.button("Log in to approve", on_click=st.login, key="rl_routing_login")
            return None
        who = st.user.get("email") or st.user.get("name") or "oidc user"
        return (str(who), "oidc")
    entries = list(cfg.get("dashboard.approvers") or [])
    if not entries:
        where = (
            f"listens on {address or 'every interface'}"
            if not auth.is_local(address)
            else "is reached through a proxy or under another host name"
        )
        st.error(
            f"Approving is disabled: this dashboard {where}"
            ", beyond localhost, and no authentication is configured. Set "
            "dashboard.approvers (see `routeledger manifest hash-password`) or configure "
            "OIDC for st.login, or approve with `routeledger manifest approve`."
        )
        return None
    if st.session_state.get(AUTH_KEY):
        return (st.session_state[AUTH_KEY], "password")
    with st.form("rl_routing_auth"):
        user = st.text_input("Approver", key="rl_routing_user_in")
        password = st.text_input("Password", type="password", key="rl_routing_password")
        if st.form_submit_button("Sign in"):
            answer = auth.Throttle.for_home(cfg.home).sign_in(entries, user, password)
            if answer.ok:
                st.session_state[AUTH_KEY] = user
                st.rerun()
            st.error(answer.message)
    return None


# -- the page -------------------------------------------------------------------------------------


def _decide(
    cfg: Config,
    data: dict[str, Any],
    path: Path,
    who: tuple[str, str],
    was_rejected: bool = False,
) -> None:
    comment = st.text_area("Comment (kept in the audit trail)", key="rl_routing_comment")
    d = approvals.Decision(who[0], who[1], comment)
    win = (data["since"], data["until"])
    a, r = st.columns(2)
    if a.button(
        "Approve",
        type="primary",
        key="rl_routing_approve",
        disabled=not data["json"]["changed"],
        width="stretch",
    ):
        out = approvals.approve(
            cfg,
            path,
            data["text"],
            d,
            window=win,
            proposal=data["json"],
            expect_sha256=data["manifest_sha256"],
        )
        st.session_state[FLASH_KEY] = f"Approved: written {path} as version {out['version']}."
        st.rerun()
    if r.button(
        "Reject",
        key="rl_routing_reject",
        disabled=was_rejected,
        help="Already rejected." if was_rejected else None,
        width="stretch",
    ):
        approvals.reject(cfg, path, data["text"], d, window=win, proposal=data["json"])
        st.session_state[FLASH_KEY] = "Rejected: recorded, the manifest is unchanged."
        st.rerun()


def what(d: dict[str, Any], restored: dict[int, int | None]) -> str:
    """What a decision did, in words: approved version N, rejected proposal <sha>, rolled back
    to version N."""
    if d["decision"] == "approved":
        return f"approved version {d['version']}"
    if d["decision"] == "rejected":
        return f"rejected proposal {str(d['proposed_sha256'])[:12]}"
    if d["decision"] == "rolled_back":
        back = restored.get(d["version"])
        return f"rolled back to version {back}" + (
            f" (as version {d['version']})" if d["version"] is not None else ""
        )
    return str(d["decision"])


def seen_before(h: dict[str, Any], j: dict[str, Any]) -> dict[str, Any] | None:
    """The newest decision on this very proposal (the same proposed text): its rejection over
    the same manifest, or its approval (no longer in force, since it is proposed again)."""
    for d in h["decisions"]:  # newest first
        if d["proposed_sha256"] != j.get("proposal_sha256"):
            continue
        if d["decision"] == "rejected" and d["previous_sha256"] == j.get("manifest_sha256"):
            return d
        if d["decision"] == "approved":
            return d
    return None


def _who_when(d: dict[str, Any]) -> str:
    """``alice on 2026-10-21 14:03 UTC: 'comment'``, the name and comment as literal text (the
    notes are Markdown)."""
    text = f"{ui.md_text(d['decided_by'])} on {d['decided_at']:%Y-%m-%d %H:%M} UTC"
    return text + (f": '{ui.md_text(d['comment'])}'" if d.get("comment") else "")


def rejected_note(d: dict[str, Any]) -> str:
    """The warning over a proposal someone rejected: who, when and their comment."""
    return (
        f"This proposal was rejected by {_who_when(d)}. The evidence still leads to the same "
        "manifest: it is not a new proposal (approving it is still possible)."
    )


def approved_note(d: dict[str, Any], h: dict[str, Any]) -> str:
    """The note over a proposal approved before and no longer in force: who approved it and,
    when it was rolled back, who did and why."""
    text = f"This proposal was approved before, as version {d['version']}, by {_who_when(d)}."
    later = [
        r
        for r in h["decisions"]  # newest first: the last one is the first rollback after it
        if r["decision"] == "rolled_back" and r["decided_at"] >= d["decided_at"]
    ]
    if later:
        return text + f" It was rolled back by {_who_when(later[-1])}."
    return text + " It is no longer in force: the manifest was changed since."


def _decisions(h: dict[str, Any]) -> None:
    if not h["decisions"]:
        st.info("No decision recorded yet: approvals, rejections and rollbacks are listed here.")
        return
    restored = {v["version"]: v.get("restored_from") for v in h["versions"]}
    rows = [
        {
            "decided_at": d["decided_at"],
            "decided_by": d["decided_by"],
            "auth": d["auth"],
            "decision": what(d, restored),
            "comment": d["comment"],
        }
        for d in h["decisions"]  # newest first
    ]
    ui.table(pd.DataFrame(rows), "manifest-decisions")


def _history(cfg: Config, path: Path, h: dict[str, Any], who: tuple[str, str] | None) -> None:
    if not h["versions"]:
        st.info("No version stored yet: the first approval keeps the current file as version 1.")
        return
    versions = pd.DataFrame(h["versions"])[
        ["version", "kind", "created_at", "created_by", "comment", "sha256", "current"]
    ]
    ui.table(versions, "manifest-versions")
    if who is None:
        return
    choices = [v["version"] for v in h["versions"] if not v["current"]]
    if not choices:
        return
    c1, c2 = st.columns([1, 3])
    version = c1.selectbox("Version", choices, key="rl_routing_version")
    if c2.button("Roll back to this version", key="rl_routing_rollback"):
        out = approvals.rollback(
            cfg, path, int(version), approvals.Decision(who[0], who[1], "rollback")
        )
        st.session_state[FLASH_KEY] = (
            f"Rolled back: version {version} restored as version {out['version']}."
        )
        st.rerun()


def body(ctx: ui.Ctx) -> None:
    assert ctx.cfg is not None
    cfg = ctx.cfg
    path = manifest_path(cfg)
    if FLASH_KEY in st.session_state:
        st.success(st.session_state.pop(FLASH_KEY))
    if not path.exists():
        st.info(
            f"No routing manifest at {path}. Set tuner.manifest in routeledger.toml to your "
            "gateway's ai-router.config.yaml (native shape, see the README)."
        )
        return
    f = ctx.filters
    since, until = window(cfg, f.since if f else None, f.until if f else None)
    st.caption(
        f"Manifest {path} · evidence {since} .. {until} (the sidebar's days; other filters "
        "do not apply)"
    )
    stamp = (_mtime(cfg.warehouse_path), _mtime(path), _mtime(cfg.file))
    data = _proposal(str(cfg.home), stamp, since, until)
    j = data["json"]
    s = j["savings"]
    h = approvals.history(cfg, path)
    before = seen_before(h, j) if j["changed"] else None
    refused = before if before and before["decision"] == "rejected" else None
    if refused is not None:
        st.warning(rejected_note(refused), icon=":material/block:")
    elif before is not None:
        st.info(approved_note(before, h), icon=":material/history:")
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Tasks changed",
        sum(t["status"] == "changed" for t in j["tasks"]),
        f"of {len(j['tasks'])}",
        delta_color="off",
        border=True,
    )
    c2.metric("Spend now (window)", ui.usd(s.get("current_spend_usd")), border=True)
    c3.metric(
        "Savings (window)",
        ui.usd(s.get("savings_usd")),
        f"95% interval {ui.usd(s.get('low_usd'))} .. {ui.usd(s.get('high_usd'))}"
        if s.get("low_usd") is not None
        else None,
        delta_color="off",
        border=True,
    )
    for t in j["tasks"]:
        label = f"{ui.md_text(t['task'])} · {t['status']}"
        with st.expander(label, expanded=t["status"] == "changed"):
            _task(t, data["frontier"].get(t["task"], []), t.get("success_target"))
    if j["providers"]:
        st.subheader("Prices refreshed")
        st.text("\n".join(f"• {p['reason']}" for p in j["providers"]))
    st.subheader("Manifest diff")
    if data["diff"]:
        st.code(data["diff"], language="diff")
    else:
        st.info("No change proposed: the manifest is still right for this evidence.")
    st.subheader("Decision")
    if refused is not None:
        st.caption("This proposal was rejected before (see above and Decisions below).")
    who = identity(cfg) if ui.not_framed() else None  # framed: no decision, no sign-in
    if who is not None:
        _decide(cfg, data, path, who, was_rejected=refused is not None)
    st.subheader("History")
    _history(cfg, path, h, who)
    st.subheader("Decisions")
    st.caption("Approvals, rejections and rollbacks of this manifest, newest first.")
    _decisions(h)


ui.page(
    "Routing",
    body,
    note="The tuner's proposal for the routing manifest: chains, reasons, "
    "savings; approve to write it.",
)
