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

This file is the page: the proposal's headline, its tasks, diff, downloads, decision, history and
decisions in order. The parts live beside it: ``routing_tasks`` (one task), ``routing_exports``
(the gateway formats), ``routing_identity`` (who is deciding), ``routing_approval`` (approve,
reject, roll back) and ``routing_decisions`` (the record of decisions, in words).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from app import ui
from app.tuner import approvals, verify
from app.tuner.proposal import manifest_path, propose, window
from app.views.routing_approval import FLASH_KEY, decide, history_panel
from app.views.routing_decisions import approved_note, decisions_table, rejected_note, seen_before
from app.views.routing_exports import DOWNLOADS as DOWNLOADS  # re-exported: the page's formats
from app.views.routing_exports import downloads, export_files
from app.views.routing_identity import identity
from app.views.routing_tasks import share, task_panel
from app.views.routing_verify import section as verification
from collectors import config as config_mod


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
    stamp = (ui.warehouse_stamp(cfg), _mtime(path), _mtime(cfg.file))
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
            task_panel(t, data["frontier"].get(t["task"], []), t.get("success_target"))
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
    downloads(data)
    st.subheader("Decision")
    if refused is not None:
        st.caption("This proposal was rejected before (see above and Decisions below).")
    who = identity(cfg) if ui.not_framed() else None  # framed: no decision, no sign-in
    if who is not None:
        decide(cfg, data, path, who, h, was_rejected=refused is not None)
    verification(verify.check(cfg, path))
    st.subheader("History")
    history_panel(cfg, path, h, who)
    st.subheader("Decisions")
    st.caption("Approvals, rejections and rollbacks of this manifest, newest first.")
    decisions_table(h)


ui.page(
    "Routing",
    body,
    note="The tuner's proposal for the routing manifest: chains, reasons, "
    "savings; approve to write it.",
)
