"""Exploration plans: where the logs cannot yet show that a cheaper chain meets the target,
an experiment that would.

For a task whose proposal keeps a chain (unchanged, infeasible on its success target, or
insufficient data), the candidate is the cheapest chain per successful request whose estimated
success meets the target but whose lower bound does not yet: the evidence, not the chain, is
short. The plan sends a share of the task's traffic (``tuner.exploration_share``) down it until
its bound can reach the target:

* requests needed: with the chain's success estimate ``p`` and its posterior spread ``sd`` on the
  ``n`` requests it rests on, the bound at confidence ``c`` reaches the target ``t`` once
  ``p - z_c · sd · sqrt(n / (n + more)) >= t``, so ``more = n · ((z_c · sd / (p - t))² - 1)``
  (at least enough for ``tuner.min_samples`` requests on its first model);
* days: ``more`` over the share of the task's requests per day in the window;
* what it costs: ``more`` times the difference in cost per request (negative: it saves while it
  runs) and the expected extra failed requests ``more · (current success - its success)``.

A plan taking longer than ``tuner.max_exploration_days`` is not proposed. The experiment id is a
hash of the task, the chain and the first day it runs, so the same plan keeps its id.

An experiment written into the manifest is concluded from the logs at the next proposal: the
chain is adopted when it qualifies (the ordinary proposal changes the chain), stopped when its
requests arrived and it still does not qualify, and otherwise kept running with its progress.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any, TypeAlias

import numpy as np

from app.tuner.manifest import Experiment, Task

# The tuner's own types (app.tuner.recommend: TaskResult, ChainEval, Evaluator, Settings) are
# taken as they come, not imported: recommend imports this module, and the arrows go one way.
TaskResult: TypeAlias = Any
ChainEval: TypeAlias = Any
Evaluator: TypeAlias = Any
Settings: TypeAlias = Any

MIN_MEET_PROBABILITY = 0.25  # a candidate below this chance of meeting the target is not tried


@dataclass(frozen=True)
class Plan:
    """An experiment for one task: ``share`` of its traffic down ``chain`` for ``requests``
    more requests (``days`` at the window's volume)."""

    id: str
    task: str
    chain: tuple[str, ...]
    share: float
    requests: int
    days: int
    estimated_success: float
    meet_probability: float  # P(the chain meets the target) on today's evidence
    extra_cost_usd: float  # while it runs, against the current chain (negative: saves)
    extra_failures: float  # expected extra failed requests while it runs
    reason: str
    baseline: float = 0.0  # the requests its chain's estimate rests on today

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "chain": list(self.chain),
            "share": self.share,
            "requests": self.requests,
            "days": self.days,
            "estimated_success": round(self.estimated_success, 6),
            "meet_probability": round(self.meet_probability, 4),
            # unknown (None, not NaN: JSON has no NaN) when a chain is not priced
            "extra_cost_usd": (
                round(self.extra_cost_usd, 6) if math.isfinite(self.extra_cost_usd) else None
            ),
            "extra_failures": round(self.extra_failures, 2),
        }


def experiment_id(task: str, chain: tuple[str, ...], start: date) -> str:
    digest = hashlib.sha256("|".join((task, *chain, start.isoformat())).encode()).hexdigest()
    return f"exp-{digest[:10]}"


def evidence_requests(e: ChainEval) -> float:
    """The requests a chain's estimate rests on: those of its first stage (with a pooled
    prior's weight)."""
    first = e.stages[0]
    n = float(first.n[0])
    return n + (first.prior.weight if first.prior is not None else 0.0)


def requests_needed(p: float, sd: float, n: float, target: float, confidence: float) -> float:
    """More requests down the chain for its bound to reach ``target`` if its success is ``p``
    (inf when ``p`` does not exceed the target)."""
    if p <= target:
        return math.inf
    z = NormalDist().inv_cdf(confidence)
    if sd <= 0 or n <= 0:
        return 0.0
    return max(n * ((z * sd / (p - target)) ** 2 - 1.0), 0.0)


def plan(
    r: TaskResult,
    candidates: list[ChainEval],
    ev_: Evaluator,
    task: Task,
    s: Settings,
    start: date,
) -> Plan | None:
    """The experiment for ``r``'s task among ``candidates`` (chains of every model the task may
    use, those with too few requests to judge included: they are what exploring is for), or
    None (no candidate, or one too slow to decide)."""
    current, target = r.current, task.success_target
    if current is None or not candidates or r.status == "changed":
        return None
    daily = r.requests / max(s.window_days, 1)
    if daily <= 0 or s.exploration_share <= 0:
        return None
    best: Plan | None = None
    best_cost = math.inf
    for c in candidates:
        if c.chain == current.chain or c.success_low >= target or c.success <= target:
            continue
        if not math.isfinite(c.cost) or c.cost_per_success >= current.cost_per_success * (
            1 - s.min_improvement
        ):
            continue
        if c.cost_per_success >= best_cost:
            continue
        if task.latency_target_ms is not None:
            p95 = ev_.p95(c)
            if p95 is None or p95 > task.latency_target_ms:
                continue
        draws = ev_.success_draws(c.chain, c.stages)
        meet = float(np.mean(draws >= target))
        if meet < MIN_MEET_PROBABILITY:
            continue
        n = evidence_requests(c)
        more = requests_needed(c.success, float(np.std(draws)), n, target, s.confidence)
        more = max(more, s.min_samples - float(c.stages[0].n[0]))
        if not math.isfinite(more):
            continue
        requests = max(int(math.ceil(more)), 1)
        days = int(math.ceil(requests / (daily * s.exploration_share)))
        if days > s.max_exploration_days:
            continue
        best_cost = c.cost_per_success
        extra_cost = requests * (c.cost - current.cost)
        extra_fail = requests * max(current.success - c.success, 0.0)
        best = Plan(
            id=experiment_id(r.task, c.chain, start),
            task=r.task,
            chain=c.chain,
            share=s.exploration_share,
            requests=requests,
            days=days,
            estimated_success=c.success,
            meet_probability=meet,
            extra_cost_usd=extra_cost,
            extra_failures=extra_fail,
            baseline=n,
            reason=(
                f"experiment: send {s.exploration_share:.0%} of {r.task}'s requests to "
                f"{c.label} for about {requests:,} requests ({days} day"
                f"{'s' if days != 1 else ''} at the window's volume): it is estimated to "
                f"succeed on {c.success:.1%} and cost "
                f"{1 - c.cost_per_success / current.cost_per_success:.0%} less per successful "
                f"request, but the logs hold too few of its requests to show it meets the "
                f"target (a {meet:.0%} chance today); while it runs it is expected to "
                + (
                    f"{'save' if extra_cost < 0 else 'cost'} ${abs(extra_cost):,.2f} and add "
                    if math.isfinite(extra_cost)
                    else "cost an unknown amount (a chain is not fully priced) and add "
                )
                + f"{extra_fail:,.1f} failed requests"
            ),
        )
    return best


def start(p: Plan, first_day: date) -> Experiment:
    """The manifest's record of plan ``p`` starting on ``first_day``, with the requests its
    chain's estimate rests on now (to count the experiment's own from)."""
    return Experiment(p.id, p.chain, p.share, p.requests, first_day.isoformat(), p.baseline)


def conclude(
    running: Experiment, r: TaskResult, candidates: list[ChainEval], target: float
) -> tuple[str, str]:
    """(verdict, reason) for an experiment under way, from this proposal's evidence:
    ``adopted`` (the proposal moves the task to its chain), ``qualified`` (its chain now meets
    the target, but the proposal found better), ``stopped`` (its requests arrived and it still
    does not meet the target), ``ineligible`` (a model of it is excluded now) or ``running``."""
    label = " → ".join(running.chain)
    head = f"experiment {running.id} ({label}, {running.share:.0%} of the traffic"
    if r.status == "changed" and r.proposed_chain == running.chain:
        return "adopted", f"{head}): concluded, the chain meets the target and is proposed"
    c = next((c for c in candidates if c.chain == running.chain), None)
    if c is None:
        return "ineligible", (
            f"{head}): stopped, a model of its chain is no longer eligible (see the exclusions)"
        )
    seen = max(evidence_requests(c) - running.baseline, 0.0)
    if c.success_low >= target:
        return "qualified", (
            f"{head}): concluded after {seen:,.0f} requests, the chain meets the target "
            f"(at least {c.success_low:.1%}); the proposal found a better one"
        )
    if seen >= running.requests:
        return "stopped", (
            f"{head}): stopped after {seen:,.0f} requests: the chain still cannot be shown to "
            f"meet the {target:.1%} target (estimated {c.success:.1%}, at least "
            f"{c.success_low:.1%})"
        )
    return "running", (
        f"{head}): running, {seen:,.0f} of {running.requests:,} requests so far; estimated "
        f"{c.success:.1%}, at least {c.success_low:.1%}"
    )
