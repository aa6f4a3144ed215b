"""The routing manifest as the weekly report tells it: the tuner's pending proposal (or why
there is none, or that someone already rejected it) and the approvals, rejections and rollbacks
decided in the week."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from app.reports.week import Week
from app.tuner import approvals, verify
from app.tuner import proposal as tuner
from collectors.config import Config
from collectors.errors import RouteLedgerError


def pending_proposal(cfg: Config) -> tuple[dict[str, Any] | None, str]:
    """The tuner's pending routing proposal (``routeledger tune --json`` shape), or a note why
    there is none. Pending = what the tuner proposes from the evidence now, when it differs from
    the manifest in force (approving regenerates and installs exactly that). A proposal someone
    already rejected (the same proposed text against the same manifest) carries that decision
    in ``rejected``: the report says so and does not offer it for approval again."""
    path = tuner.manifest_path(cfg)
    if not path.is_file():
        return None, f"no proposal: no routing manifest at {path} (tuner.manifest)"
    try:
        proposal = tuner.propose(cfg)
    except RouteLedgerError as e:
        return None, f"no proposal: {e}"
    if not proposal.changed:
        return None, "no proposal: the routing manifest is up to date with the evidence"
    doc = proposal.as_json()
    doc["rejected"] = next(
        (
            {k: d[k] for k in ("decided_at", "decided_by", "comment")}
            for d in approvals.history(cfg, path)["decisions"]  # newest first
            if d["decision"] == "rejected"
            and d["proposed_sha256"] == proposal.sha256
            and d["previous_sha256"] == proposal.manifest.sha256
        ),
        None,
    )
    return doc, ""


def decisions_in(cfg: Config, week: Week) -> list[dict[str, Any]]:
    """Approvals, rejections and rollbacks of the routing manifest decided in ``week`` (local
    days), oldest first."""
    path = tuner.manifest_path(cfg)
    tz = ZoneInfo(cfg.timezone)
    out = []
    for d in reversed(approvals.history(cfg, path)["decisions"]):
        local = d["decided_at"].replace(tzinfo=UTC).astimezone(tz).date()
        if week.since <= local <= week.until:
            out.append({k: d[k] for k in ("decided_at", "decision", "decided_by", "comment")})
    return out


def verification(cfg: Config) -> list[dict[str, Any]]:
    """The latest approval's changes, each forecast against the requests since
    (:func:`app.tuner.verify.check`), as the report tells them: verdict, findings, the version
    a rollback would restore."""
    path = tuner.manifest_path(cfg)
    if not path.is_file():
        return []
    out = []
    for c in verify.check(cfg, path.resolve()):
        j = c.as_json()
        j.pop("days")
        out.append(j)
    return out
