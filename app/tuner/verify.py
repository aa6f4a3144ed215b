"""Verification after approval: each approved change's forecast against what happened since.

An approval stores the proposal it was made on (``manifest_decisions.proposal``: the
``routeledger tune --json`` object), and with it each changed task's forecast with 95%
intervals (success, cost per successful request, P95; :func:`app.tuner.proposal._forecast`).
:func:`check` reads the latest approval not rolled back since, and for each task it changed,
the task's requests that started after the approval, per local day and in all:

* ``too_early`` until there are ``tuner.min_samples`` of them;
* ``worse`` when the actual success's own 95% interval (Wilson) lies wholly under the forecast's,
  or the actual cost per successful request or P95 is above the forecast's interval by more than
  its own sampling error (``1.96 / sqrt(n)`` of it): the change is not doing what it promised,
  and the check proposes rolling back to the version before it (it never rolls back itself);
* ``drifted`` when it is worse only in ways a model in the same place of the chain before the
  approval explains: that model's own attempts on the task fail more (their Wilson intervals apart) or
  run slower (P95 up by more than a quarter) since the approval. The world changed, not the
  routing: rolling back would not restore the forecast, so none is proposed; the tuner should
  look at the days since;
* ``better`` when the actual success's interval lies wholly above the forecast's;
* ``as_forecast`` otherwise.

The Routing page, ``routeledger manifest verify`` and the weekly report show the same checks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.tuner import queries
from app.tuner.evidence import wilson_low
from collectors.config import Config
from collectors.warehouse import Warehouse

VERDICTS = ("too_early", "as_forecast", "better", "worse", "drifted")
SLOWER = 1.25  # a model whose P95 rose by more than this factor since the approval drifted
MIN_DRIFT_SAMPLES = 30  # attempts on each side before a model's drift is judged


@dataclass
class Check:
    task: str
    chain: list[str]
    approved_at: datetime
    version: int | None
    forecast: dict[str, Any]
    actual: dict[str, Any]
    days: list[dict[str, Any]] = field(default_factory=list)
    verdict: str = "too_early"
    findings: list[str] = field(default_factory=list)
    rollback_to: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "chain": self.chain,
            "approved_at": self.approved_at.isoformat(),
            "version": self.version,
            "verdict": self.verdict,
            "findings": self.findings,
            "rollback_to": self.rollback_to,
            "forecast": self.forecast,
            "actual": self.actual,
            "days": [{**d, "local_day": str(d["local_day"])} for d in self.days],
        }


def wilson(k: float, n: float) -> tuple[float, float]:
    """The 95% Wilson interval of ``k`` successes in ``n``."""
    if n <= 0:
        return (0.0, 1.0)
    low = float(wilson_low(np.array([k], dtype=float), np.array([n], dtype=float))[0])
    high = 1.0 - float(wilson_low(np.array([n - k], dtype=float), np.array([n], dtype=float))[0])
    return low, high


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def judge(
    forecast: dict[str, Any], actual: dict[str, Any], min_samples: int
) -> tuple[str, list[str]]:
    """The verdict on one task's actuals against its forecast, and what found it."""
    n = int(actual["requests"])
    if n < min_samples:
        return "too_early", [
            f"{n:,} requests since the approval, {min_samples:,} needed to judge "
            "(tuner.min_samples)"
        ]
    findings: list[str] = []
    worse = better = False
    lo, hi = actual["success_low"], actual["success_high"]
    flo, fhi = forecast.get("success_low"), forecast.get("success_high")
    if flo is not None and hi < flo:
        worse = True
        findings.append(
            f"success {actual['success']:.1%} (95% interval {lo:.1%} to {hi:.1%}) is below the "
            f"forecast's {flo:.1%} to {fhi:.1%}"
        )
    elif fhi is not None and lo > fhi:
        better = True
        findings.append(
            f"success {actual['success']:.1%} (95% interval {lo:.1%} to {hi:.1%}) is above the "
            f"forecast's {flo:.1%} to {fhi:.1%}"
        )
    cps, chi = (
        _num(actual.get("cost_per_success_usd")),
        forecast.get("cost_per_successful_request_high_usd"),
    )
    ok_n = max(int(actual.get("succeeded") or 0), 1)
    if cps is not None and chi is not None and cps > chi * (1 + 1.96 / math.sqrt(ok_n)):
        worse = True
        findings.append(
            f"cost per successful request ${cps:,.6f} is above the forecast's ${chi:,.6f}"
        )
    p95, phi = _num(actual.get("p95_ms")), forecast.get("p95_high_ms")
    if p95 is not None and phi is not None and p95 > phi * (1 + 1.96 / math.sqrt(ok_n)):
        worse = True
        findings.append(f"P95 latency {p95:,.0f} ms is above the forecast's {phi:,.0f} ms")
    if worse:
        return "worse", findings
    if better:
        return "better", findings
    return "as_forecast", findings or [
        f"{n:,} requests since the approval: success {actual['success']:.1%}, within the "
        "forecast's intervals"
    ]


def drifts(rows: list[dict[str, Any]], shared: set[str]) -> tuple[list[str], list[str]]:
    """(failing more, slower): the models of ``shared`` whose own attempts since the approval
    fail more or run slower than before it, each as a sentence."""
    by: dict[tuple[str, bool], dict[str, Any]] = {}
    for r in rows:
        names = {r["name"], r["served_model"]} & shared
        for name in names:
            by[(name, bool(r["after"]))] = r
    failing, slower = [], []
    for name in sorted(shared):
        b, a = by.get((name, False)), by.get((name, True))
        if not b or not a or min(b["attempts"], a["attempts"]) < MIN_DRIFT_SAMPLES:
            continue
        blo, bhi = wilson(b["failed"], b["attempts"])
        alo, ahi = wilson(a["failed"], a["attempts"])
        if alo > bhi:
            failing.append(
                f"{name} itself fails more since the approval ({a['failed'] / a['attempts']:.1%}"
                f" of its {a['attempts']:,} attempts on this task, {b['failed'] / b['attempts']:.1%}"
                " before)"
            )
        bp, ap = _num(b["p95_ms"]), _num(a["p95_ms"])
        enough = min(b["succeeded"], a["succeeded"]) >= MIN_DRIFT_SAMPLES
        if enough and bp and ap and ap > bp * SLOWER:
            slower.append(
                f"{name} itself is slower since the approval (P95 {ap:,.0f} ms on its own "
                f"attempts, {bp:,.0f} ms before)"
            )
    return failing, slower


def _actual(row: dict[str, Any]) -> dict[str, Any]:
    n, k = int(row["requests"]), int(row["succeeded"])
    lo, hi = wilson(k, n)
    return {
        "requests": n,
        "succeeded": k,
        "success": k / n if n else None,
        "success_low": lo,
        "success_high": hi,
        "cost_per_success_usd": _num(row["cost_per_success_usd"]),
        "p95_ms": _num(row["p95_ms"]),
    }


def check(cfg: Config, path: Path) -> list[Check]:
    """The checks of the latest approval of the manifest at ``path`` not rolled back since: one
    per task it changed."""
    min_samples = int(cfg.get("tuner.min_samples"))
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        approved = queries.approval(con, str(path))
        if approved is None:
            return []
        proposal = json.loads(approved["proposal"])
        out = []
        for t in proposal.get("tasks", []):
            if t.get("status") != "changed" or not t.get("forecast"):
                continue
            rows = queries.actuals(con, t["task"], approved["decided_at"])
            total = next((r for r in rows if r["local_day"] is None), None)
            days = [_actual(r) | {"local_day": r["local_day"]} for r in rows if r["local_day"]]
            actual = (
                _actual(total)
                if total and total["requests"]
                else _actual({"requests": 0, "succeeded": 0, "cost_per_success_usd": None,
                              "p95_ms": None})
            )  # fmt: skip
            verdict, findings = judge(t["forecast"], actual, min_samples)
            if verdict == "worse":
                verdict = _attribute(con, t, proposal, approved["decided_at"], findings)
            version = approved["version"]
            c = Check(
                t["task"],
                list(t["proposed_chain"]),
                approved["decided_at"],
                version,
                t["forecast"],
                actual,
                days,
                verdict,
                findings,
            )
            if verdict == "worse" and version and version > 1:
                c.rollback_to = version - 1
                c.findings.append(
                    f"roll back to version {version - 1} (the manifest before this approval): "
                    f"routeledger manifest rollback {version - 1}"
                )
            out.append(c)
    return out


def _attribute(
    con: Any, t: dict[str, Any], proposal: dict[str, Any], at: datetime, findings: list[str]
) -> str:
    """``drifted`` when every way the change is worse is explained by a model in the same place
    in the chain before it (the findings say which and how); otherwise ``worse``."""
    new, old = list(t.get("proposed_chain") or []), list(t.get("current_chain") or [])
    # a model explains a shortfall only where it stands in both chains: a model the chain
    # before used only as a fallback would have met the same requests less often
    shared = {m for i, m in enumerate(new) if i < len(old) and old[i] == m}
    since = proposal.get("window", {}).get("since")
    if not shared or not since:
        return "worse"
    rows = queries.model_drift(con, t["task"], datetime.fromisoformat(since), at)
    failing, slower = drifts(rows, shared)
    success_short = any(f.startswith("success") for f in findings)
    slow = any(f.startswith("P95") for f in findings)
    costly = any(f.startswith("cost") for f in findings)
    explained = (not success_short or bool(failing)) and (not slow or bool(slower)) and not costly
    findings += failing if success_short else []
    findings += slower if slow else []
    if not explained:
        return "worse"
    findings.append(
        "the chain before this approval uses it too, so rolling back would not restore the "
        f"forecast: run the tuner on the days since (routeledger tune --since {at:%Y-%m-%d})"
    )
    return "drifted"
