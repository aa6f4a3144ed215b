"""Routing: the tuner's proposal for the routing manifest, and its approval.

Per task the current and proposed chains side by side with their estimates and reasons (plain
words, percentages and counts), whether the quality of the answers was measured (eval scores, a
validation gate) or only the gateway's success, the cost-versus-success frontier of the candidate
chains (the chosen one marked), the savings in dollars and as a share of the spend with their
bootstrap interval, and the unified diff of the manifest, with the proposed manifest to download
in the native, LiteLLM, Portkey and OpenRouter formats. Approve and Roll back take two steps: the
first shows exactly what will be written (the file, the version it becomes, the changes) and the
second, "Confirm", writes it atomically and records the decision; Reject records it and needs a
comment saying why. Decisions lists every approval, rejection and rollback (who, when, what, the
comment), newest first, and a proposal already rejected (the same text over the same manifest)
is said to be so, by whom and why; History lists every stored version with a rollback.

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
from app.tuner import approvals, auth, exports
from app.tuner import manifest as manifest_mod
from app.tuner.proposal import manifest_path, propose, window
from collectors import config as config_mod
from collectors.config import Config

AUTH_KEY = ui.SIGNED_IN_KEY
FLASH_KEY = "rl_routing_flash"
CONFIRM_KEY = "rl_routing_confirm"  # the decision waiting for its second step
# the proposed manifest as each gateway reads it: (label, file name, MIME type)
DOWNLOADS = {
    "native": ("Native (YAML)", "ai-router.config.yaml", "application/yaml"),
    "litellm": ("LiteLLM (YAML)", "litellm-config.yaml", "application/yaml"),
    "portkey": ("Portkey (JSON)", "portkey-config.json", "application/json"),
    "openrouter": ("OpenRouter (JSON)", "openrouter.json", "application/json"),
}


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
        "exports": export_files(p.text, p.manifest.file),
        "text": p.text,
        "diff": p.diff,
        "frontier": frontier,
        "manifest_sha256": p.manifest.sha256,
        "since": p.since,
        "until": p.until,
    }


def export_files(text: str, file: str) -> dict[str, str]:
    """The proposed manifest in every format of :data:`DOWNLOADS` (a format that cannot express
    it is left out; :func:`_downloads` says why)."""
    proposed = manifest_mod.loads(text, file)
    out: dict[str, str] = {}
    for fmt in DOWNLOADS:
        try:
            out[fmt] = exports.export(proposed, fmt)
        except (manifest_mod.ManifestError, ValueError) as e:
            out[fmt + ":error"] = str(e)
    return out


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
            f"success {ui.pct(cur.get('estimated_success'))} (at least "
            f"{ui.pct(cur.get('estimated_success_low'))} with 95% confidence), "
            f"P95 {ui.ms(cur.get('p95_ms'))}"
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
            f"success {ui.pct(t.get('estimated_success'))} (at least "
            f"{ui.pct(t.get('estimated_success_low'))} with 95% confidence), "
            f"P95 {ui.ms(t.get('p95_ms'))}"
        )
    saved = savings_text(sav)
    if saved:
        st.text(saved)
    elif sav.get("note"):
        st.text(f"Savings unknown: {sav['note']}")
    q = t.get("quality_evidence") or {}
    if q.get("note"):
        st.markdown(quality_markdown(q))
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


def _next_version(h: dict[str, Any]) -> tuple[int, int | None]:
    """(the version an approval or rollback becomes, the version the file on disk is or becomes
    when it is kept first; None when there is no file)."""
    versions = h["versions"]  # newest first
    latest = versions[0]["version"] if versions else 0
    if h.get("sha256") is None:
        return latest + 1, None
    if versions and versions[0]["sha256"] == h["sha256"]:
        return latest + 1, latest
    return latest + 2, latest + 1  # the file on disk is stored first (baseline or edit)


def _changes(j: dict[str, Any]) -> list[str]:
    """What an approval changes, one line each (plain text)."""
    lines = [
        f"{t['task']}: {_chain(t['current_chain'])}  becomes  {_chain(t['proposed_chain'])}"
        for t in j["tasks"]
        if t["status"] == "changed"
    ]
    lines += [p["reason"] for p in j.get("providers") or []]
    return lines


def _confirm_approve(
    cfg: Config,
    data: dict[str, Any],
    path: Path,
    who: tuple[str, str],
    h: dict[str, Any],
    comment: str,
) -> None:
    """The second step of Approve: exactly what will be written, then Confirm or Cancel."""
    j = data["json"]
    pending = st.session_state[CONFIRM_KEY]
    if pending.get("proposal_sha256") != j["proposal_sha256"]:
        st.session_state.pop(CONFIRM_KEY, None)
        st.error("The proposal changed since Approve was clicked: review it again.")
        return
    version, kept = _next_version(h)
    comment = comment.strip()
    with st.container(border=True):
        st.warning(
            f"Approving writes {ui.md_text(path)} as version {version} (proposal "
            f"{j['proposal_sha256'][:12]}), recorded as approved by {ui.md_text(who[0])}"
            + (f" with the comment '{ui.md_text(comment)}'" if comment else " with no comment")
            + "."
            + (
                f" The file it replaces stays stored as version {kept} (roll back to it at any "
                "time)."
                if kept
                else ""
            ),
            icon=":material/edit_document:",
        )
        st.text("\n".join(f"• {line}" for line in _changes(j)) or "• no change")
        with st.expander("The file that will be written"):
            st.code(data["text"], language="yaml")
        c1, c2 = st.columns(2)
        if c1.button(
            "Confirm: write the manifest",
            type="primary",
            key="rl_routing_approve_confirm",
            width="stretch",
        ):
            st.session_state.pop(CONFIRM_KEY, None)
            out = approvals.approve(
                cfg,
                path,
                data["text"],
                approvals.Decision(who[0], who[1], comment),
                window=(data["since"], data["until"]),
                proposal=j,
                expect_sha256=data["manifest_sha256"],
            )
            st.session_state[FLASH_KEY] = f"Approved: written {path} as version {out['version']}."
            st.rerun()
        if c2.button("Cancel", key="rl_routing_cancel", width="stretch"):
            st.session_state.pop(CONFIRM_KEY, None)
            st.rerun()


def _decide(
    cfg: Config,
    data: dict[str, Any],
    path: Path,
    who: tuple[str, str],
    h: dict[str, Any],
    was_rejected: bool = False,
) -> None:
    comment = st.text_area(
        "Comment (kept in the audit trail; required to reject)", key="rl_routing_comment"
    )
    j = data["json"]
    win = (data["since"], data["until"])
    a, r = st.columns(2)
    if a.button(
        "Approve",
        type="primary",
        key="rl_routing_approve",
        disabled=not j["changed"],
        help="Shows what will be written; a second click on Confirm writes it.",
        width="stretch",
    ):
        st.session_state[CONFIRM_KEY] = {
            "action": "approve",
            "proposal_sha256": j["proposal_sha256"],
        }
    if r.button(
        "Reject",
        key="rl_routing_reject",
        disabled=was_rejected,
        help="Already rejected." if was_rejected else "Records why; the manifest is unchanged.",
        width="stretch",
    ):
        st.session_state.pop(CONFIRM_KEY, None)
        if not comment.strip():
            st.error(
                "Say why in the comment to reject: the reason is kept in the audit trail and "
                "shown beside the proposal."
            )
        else:
            d = approvals.Decision(who[0], who[1], comment.strip())
            approvals.reject(cfg, path, data["text"], d, window=win, proposal=j)
            st.session_state[FLASH_KEY] = "Rejected: recorded, the manifest is unchanged."
            st.rerun()
    if (st.session_state.get(CONFIRM_KEY) or {}).get("action") == "approve":
        _confirm_approve(cfg, data, path, who, h, comment)


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
    if c2.button(
        "Roll back to this version",
        key="rl_routing_rollback",
        help="Shows what will be written; a second click on Confirm writes it.",
    ):
        st.session_state[CONFIRM_KEY] = {"action": "rollback", "version": int(version)}
    pending = st.session_state.get(CONFIRM_KEY) or {}
    if pending.get("action") == "rollback":
        if pending["version"] == int(version):
            _confirm_rollback(cfg, path, h, who, int(pending["version"]))
        else:  # another version picked since: ask again
            st.session_state.pop(CONFIRM_KEY, None)


def _confirm_rollback(
    cfg: Config, path: Path, h: dict[str, Any], who: tuple[str, str], version: int
) -> None:
    """The second step of Roll back: the version, what changes on disk, then Confirm or Cancel."""
    rows = {v["version"]: v for v in h["versions"]}
    v = rows.get(version)
    if v is None or v["current"]:
        st.session_state.pop(CONFIRM_KEY, None)
        return
    new, kept = _next_version(h)
    try:
        restored = Path(v["stored_path"]).read_text(encoding="utf-8")
        now = path.read_text(encoding="utf-8") if path.exists() else ""
        diff = manifest_mod.unified_diff(now, restored, path.name)
    except OSError as e:
        diff = f"(the stored copy cannot be read: {e})"
    with st.container(border=True):
        st.warning(
            f"Rolling back writes version {version} ({v['kind']}, {v['created_at']:%Y-%m-%d %H:%M}"
            f" UTC by {ui.md_text(v['created_by'])}, sha256 {v['sha256'][:12]}) to "
            f"{ui.md_text(path)} as version {new}, recorded as rolled back by "
            f"{ui.md_text(who[0])}."
            + (f" The file it replaces stays stored as version {kept}." if kept else ""),
            icon=":material/history:",
        )
        why = st.text_input("Why (kept in the audit trail)", key="rl_routing_rollback_comment")
        if diff:
            st.code(diff, language="diff")
        c1, c2 = st.columns(2)
        if c1.button(
            f"Confirm: restore version {version}",
            type="primary",
            key="rl_routing_rollback_confirm",
            width="stretch",
        ):
            st.session_state.pop(CONFIRM_KEY, None)
            out = approvals.rollback(
                cfg, path, version, approvals.Decision(who[0], who[1], why.strip() or "rollback")
            )
            st.session_state[FLASH_KEY] = (
                f"Rolled back: version {version} restored as version {out['version']}."
            )
            st.rerun()
        if c2.button("Cancel", key="rl_routing_rollback_cancel", width="stretch"):
            st.session_state.pop(CONFIRM_KEY, None)
            st.rerun()


def _downloads(data: dict[str, Any]) -> None:
    """The proposed manifest in each gateway's own format."""
    files = data["exports"]
    cols = st.columns(len(DOWNLOADS))
    for col, (fmt, (label, name, mime)) in zip(cols, DOWNLOADS.items(), strict=True):
        if fmt in files:
            col.download_button(
                label,
                data=files[fmt],
                file_name=name,
                mime=mime,
                key=f"rl_routing_download_{fmt}",
                icon=":material/download:",
                width="stretch",
            )
        else:
            col.caption(f"{label}: not available ({files.get(fmt + ':error', 'unknown error')})")


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
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Tasks changed",
        sum(t["status"] == "changed" for t in j["tasks"]),
        f"of {len(j['tasks'])}",
        delta_color="off",
        border=True,
    )
    c2.metric("Spend now (window)", ui.usd(s.get("current_spend_usd")), border=True)
    spend = s.get("current_spend_usd")
    of = share(s.get("savings_usd"), spend)
    interval = (
        f"95% interval {ui.usd(s.get('low_usd'))} .. {ui.usd(s.get('high_usd'))}"
        + (f" ({share(s.get('low_usd'), spend)} .. {share(s.get('high_usd'), spend)} of spend)"
           if of else "")
        if s.get("low_usd") is not None
        else None
    )  # fmt: skip
    c3.metric(
        "Savings (window)",
        ui.usd(s.get("savings_usd")),
        f"{of} of spend" if of else None,
        delta_color="off",
        border=True,
        help=interval,
    )
    measured = sum(bool((t.get("quality_evidence") or {}).get("measured")) for t in j["tasks"])
    c4.metric(
        "Quality measured",
        f"{measured} of {len(j['tasks'])} tasks",
        f"{len(j['tasks']) - measured} on success only" if measured < len(j["tasks"]) else None,
        delta_color="off",
        border=True,
        help="Eval scores (routeledger evals import) or a validation gate in the logs "
        "(validation_passed, quality_score); without them the tuner judges a chain by the "
        "gateway's success alone.",
    )
    if s.get("savings_usd") is not None:
        st.caption(
            f"Replaying the window under the proposed chains: {ui.usd(spend)} of spend becomes "
            f"{ui.usd(s.get('proposed_spend_usd'))}, {ui.usd(s.get('savings_usd'))} saved"
            + (f" ({of} of spend)" if of else "")
            + (f"; {interval}" if interval else "")
            + "."
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
    st.subheader("Download the proposed routing")
    st.caption(
        "The proposed manifest as each gateway reads it (the current one where nothing changes);"
        " `routeledger tune --format FORMAT --out FILE` writes the same files."
    )
    _downloads(data)
    st.subheader("Decision")
    if refused is not None:
        st.caption("This proposal was rejected before (see above and Decisions below).")
    who = identity(cfg) if ui.not_framed() else None  # framed: no decision, no sign-in
    if who is not None:
        _decide(cfg, data, path, who, h, was_rejected=refused is not None)
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
