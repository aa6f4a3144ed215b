"""The Routing page's decisions that write: Approve and Reject of the proposal, and Roll back
from History to a stored version. Approve and Roll back take two steps: the first shows exactly
what will be written (the file, the version it becomes, the changes), the second, "Confirm",
writes it atomically and records the decision; Reject records it and needs a comment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import ui
from app.tuner import approvals
from app.tuner import manifest as manifest_mod
from app.views.routing_tasks import chain_text
from collectors.config import Config

FLASH_KEY = "rl_routing_flash"
CONFIRM_KEY = "rl_routing_confirm"  # the decision waiting for its second step


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
        f"{t['task']}: {chain_text(t['current_chain'])}  becomes  {chain_text(t['proposed_chain'])}"
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


def decide(
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


def history_panel(cfg: Config, path: Path, h: dict[str, Any], who: tuple[str, str] | None) -> None:
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
