"""The Routing page's record of decisions, in words: what each approval, rejection and rollback
did, the table of them (newest first), and the notes over a proposal someone already rejected or
approved (who, when and why)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import ui


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


def decisions_table(h: dict[str, Any]) -> None:
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
