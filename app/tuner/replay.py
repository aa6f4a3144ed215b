"""Savings: the window's logical requests replayed under the current and the proposed chains.

Each request is replayed from what the logs say about *that* request as long as they can: while
the chain tries the same models in the same order as the request did, the request's observed
outcomes and costs stand (its pattern; the pattern's mean cost is split over its stages in
proportion to their expected costs). Where the chain departs from what the request did, the rest
of the chain is imputed from the task's conditional estimates (:class:`app.tuner.evidence.Stats`:
P(m succeeds | the chain's earlier models failed on the same request), and m's expected stage
cost), with the same conservative rule as the recommendation. A request replayed under the chain
it actually took therefore costs what it cost. The replay gives, per chain, the spend, the
expected successes, the success rate and the cost per successful request.

The interval is a bootstrap over logical requests: the window's requests are resampled with
replacement (a multinomial draw of pattern counts, ``resamples`` times, seeded per task), the
conditional estimates are re-estimated on each resample, and both chains are replayed again.
``low_usd`` and ``high_usd`` are the 2.5th and 97.5th percentiles of the savings
(current spend - proposed spend). Costs within one pattern are taken at their mean: the interval
reflects which requests fail where, not the spread of token counts within an outcome pattern.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from app.tuner.evidence import Pattern, TaskEvidence
from app.tuner.recommend import Evaluator, Settings

RESAMPLES = 200


@dataclass(frozen=True)
class Replay:
    requests: int
    spend_usd: float
    successes: float

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.requests if self.requests else None

    @property
    def cost_per_successful_request_usd(self) -> float | None:
        return self.spend_usd / self.successes if self.successes > 0 else None

    def as_json(self) -> dict[str, float | int | None]:
        return {
            "requests": self.requests,
            "spend_usd": _round(self.spend_usd),
            "success_rate": self.success_rate,
            "cost_per_successful_request_usd": _round(self.cost_per_successful_request_usd),
        }


@dataclass(frozen=True)
class TaskSavings:
    task: str
    current: Replay | None
    proposed: Replay | None
    savings_usd: float | None
    low_usd: float | None
    high_usd: float | None
    note: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "task": self.task,
            "current": self.current.as_json() if self.current else None,
            "proposed": self.proposed.as_json() if self.proposed else None,
            "savings_usd": _round(self.savings_usd),
            "low_usd": _round(self.low_usd),
            "high_usd": _round(self.high_usd),
            "note": self.note,
        }


def _round(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 6)


def _stage_costs(ev: TaskEvidence, p: Pattern) -> list[float]:
    """Cost per request of each stage of the pattern: its observed mean cost split over its
    stages in proportion to their expected costs (NaN for a model without any price)."""
    weights = []
    for st in p.stages:
        obs = ev.models.get(st.model)
        if obs is None:
            weights.append(math.nan)
            continue
        c_fail = obs.attempt_cost(False)
        weights.append((st.attempts - 1) * c_fail + (obs.attempt_cost(True) if st.ok else c_fail))
    total = sum(weights)
    scale = 1.0
    if p.priced_n and math.isfinite(total) and total > 0:
        scale = (p.priced_cost / p.priced_n) / total
    return [w * scale for w in weights]


def _tails(ev_: Evaluator, chain: tuple[str, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each d: (expected spend, expected success) of ``chain[d:]`` once ``chain[:d]`` failed,
    per weight row; ``d = len(chain)`` is the empty tail."""
    rows = ev_.stats.w.shape[0]
    ests = [ev_.stats.estimate(chain, j) for j in range(len(chain))]
    out = []
    for d in range(len(chain) + 1):
        reach, cost_reach = np.ones(rows), np.ones(rows)
        spend, succ = np.zeros(rows), np.zeros(rows)
        for j in range(d, len(chain)):
            est, m = ests[j], chain[j]
            stage = np.maximum(ev_.stage_cost(m, est.p), ev_.stage_cost(m, est.p_for_cost))
            spend = spend + cost_reach * stage
            succ = succ + reach * est.p
            reach = reach * (1 - est.p)
            cost_reach = cost_reach * (1 - est.p_for_cost)
        out.append((spend, succ))
    return out


def _replay(
    ev_: Evaluator, costs: list[list[float]], chain: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(spend, successes) per weight row."""
    tails = _tails(ev_, chain)
    spend = np.zeros(ev_.stats.w.shape)
    succ = np.zeros(ev_.stats.w.shape)
    for i, (p, c) in enumerate(zip(ev_.ev.patterns, costs, strict=True)):
        paid, done, d = 0.0, False, 0
        while d < len(chain) and d < len(p.stages) and p.stages[d].model == chain[d]:
            paid += c[d]
            done = p.stages[d].ok
            d += 1
            if done:
                break
        if done:
            spend[:, i], succ[:, i] = paid, 1.0
        else:
            tail_spend, tail_succ = tails[d]
            spend[:, i], succ[:, i] = paid + tail_spend, tail_succ
    w = ev_.stats.w
    return (w * spend).sum(axis=1), (w * succ).sum(axis=1)


def savings(
    ev: TaskEvidence,
    current: tuple[str, ...],
    proposed: tuple[str, ...],
    s: Settings,
    resamples: int = RESAMPLES,
) -> tuple[TaskSavings, np.ndarray]:
    """The task's replay and the savings of every resample (row 0: the observed requests)."""
    counts = np.array([p.n for p in ev.patterns], dtype=float)
    total = int(counts.sum())
    if not total:
        return TaskSavings(ev.task, None, None, None, None, None, "no requests"), np.zeros(
            resamples + 1
        )
    rng = np.random.default_rng(zlib.crc32(ev.task.encode()))
    draws = rng.multinomial(total, counts / total, size=resamples).astype(float)
    ev_ = Evaluator(ev, s, np.vstack([counts[None, :], draws]))
    costs = [_stage_costs(ev, p) for p in ev.patterns]
    cur_spend, cur_succ = _replay(ev_, costs, current)
    if proposed == current:
        new_spend, new_succ = cur_spend, cur_succ
    else:
        new_spend, new_succ = _replay(ev_, costs, proposed)
    diff = cur_spend - new_spend
    note = None
    if not np.isfinite(diff).all():
        note = "a model of the current or proposed chain has no price: savings unknown"
        diff = np.full_like(diff, np.nan)
    cur = Replay(total, float(cur_spend[0]), float(cur_succ[0]))
    new = Replay(total, float(new_spend[0]), float(new_succ[0]))
    low, high = (
        (float(np.percentile(diff[1:], 2.5)), float(np.percentile(diff[1:], 97.5)))
        if resamples and note is None
        else (None, None)
    )
    point = float(diff[0]) if note is None else None
    return TaskSavings(ev.task, cur, new, point, low, high, note), diff


def total(per_task: list[tuple[TaskSavings, np.ndarray]]) -> dict[str, float | None]:
    """The contract's ``savings`` object: spend under the current and proposed chains, and the
    95% bootstrap interval of the savings, summed over tasks resample by resample."""
    known = [(t, d) for t, d in per_task if t.note is None and t.current and t.proposed]
    if not known:
        return {
            "current_spend_usd": None,
            "proposed_spend_usd": None,
            "savings_usd": None,
            "low_usd": None,
            "high_usd": None,
        }
    diffs = np.sum([d for _, d in known], axis=0)
    cur = sum(t.current.spend_usd for t, _ in known if t.current)
    new = sum(t.proposed.spend_usd for t, _ in known if t.proposed)
    rest = diffs[1:]
    return {
        "current_spend_usd": _round(cur),
        "proposed_spend_usd": _round(new),
        "savings_usd": _round(float(diffs[0])),
        "low_usd": _round(float(np.percentile(rest, 2.5))) if len(rest) else None,
        "high_usd": _round(float(np.percentile(rest, 97.5))) if len(rest) else None,
    }
