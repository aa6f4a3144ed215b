"""Savings: the window's logical requests replayed under the proposed chain, against what they cost.

**The current spend is the observed spend.** Every request of the window costs what the marts say
it cost (``logical_requests.cost_usd``: the sum of its attempts' costs, unpriced attempts not
summed), so a task's current spend is exactly its ``task_stats(since, until).spend_usd``, and
its current success rate the observed one. Nothing of the current routing is modelled: an
earlier version replayed the current chain too, and its model (pattern means, failures imputed
down the chain) put the current spend of the demo $15.74 above what it cost, more than the
saving it claimed.

**The proposed spend replays each request from its own observed outcome.** A request whose
observed path follows the manifest's current chain (its stages are the chain's first models, in
order) is *on the chain*. Under the proposed chain it keeps its observed stages, at their
observed costs, as long as the proposed chain tries the same models in the same order. If it
ended there (it succeeded, or it failed and the gateway stopped before the end of the current
chain: a client error, the budget limit), that is its replay. Otherwise (the proposed chain
departs from what the request did, or goes on where the current chain ran out) the rest of the
proposed chain is imputed from the task's conditional estimates
(:class:`app.tuner.evidence.Stats`: P(m succeeds | the chain's earlier models failed on the same
request), and m's mean stage cost), with the same conservative rule as the recommendation.
A request *off the chain* (its path is not the current chain's: a service calling a model
directly, an experiment, traffic from before a manifest change) is not routed by this chain, and
keeps its observed cost and outcome under the proposed one too; they are counted
(``off_chain_requests``). So a proposal equal to the current chain saves exactly nothing, and
the saving of a request is the observed cost of the stages it replaces minus the imputed cost
of the proposed ones. An unpriced attempt among the replaced stages is valued at its model's
mean attempt cost (a saving must not count it as free); a model with no price at all makes the
task's saving unknown.

**The interval** (``low_usd`` .. ``high_usd``) covers the sampling error and the replay's own:

1. Sampling: a bootstrap over logical requests. The window's requests are resampled with
   replacement (a multinomial draw of pattern counts, ``resamples`` times, seeded per task), the
   conditional estimates are re-estimated on each resample, and the proposed chain is replayed
   again; the 2.5th and 97.5th percentiles of the savings.
2. Cost spread within a pattern: requests with the same outcomes do not cost the same. Each
   resample adds to each pattern's replaced observed cost a normal draw with the variance of the
   sum of that many of its requests (from the per-pattern sum of squared request costs; the
   replaced stages' share of the spread taken as their share of the cost).
3. The imputed models' mean costs are estimates too (a fallback model's mean may rest on a few
   hundred attempts and be imputed for every request): each resample scales a model's imputed
   stage cost by a normal draw with the relative standard error of its mean attempt cost.
4. The replay's model error: the imputation (mean stage costs per model and outcome, the
   conditional success estimates, the conservative assumed rescue, no request ever stopping
   early) is biased by some amount. It is measured on the one chain whose truth is known: the
   on-chain requests are replayed under the current chain from its first stage by the same
   machinery and compared with what they cost. That relative error (100% where a model of the
   current chain has no price, so it cannot be imputed), times the spend the proposed replay
   imputes, widens the bootstrap interval on both sides (``model_error_usd``).

Why measure the model error rather than only propagate spreads: a spread says how noisy the
inputs are, not whether the model that combines them is right; replaying the known chain tests
the whole model (costs, probabilities and rules) on the task's own traffic, and it is zero where
nothing is imputed. What it cannot see is a model whose cost differs when it moves to another
position of the chain (requests that reach a fallback may be unlike the rest); item 3 and the
bootstrap are all that stands for that.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from app.queries import json_scalar
from app.tuner.evidence import Pattern, TaskEvidence, pattern_key
from app.tuner.recommend import Evaluator, Settings

RESAMPLES = 200


# The current routing's figures that are the marts' own (``task_stats``): one definition of
# cost per successful request (over priced requests, with its coverage) and of P95.
OBSERVED = ("cost_per_successful_request_usd", "price_coverage", "cost_unknown_reason", "p95_ms")


@dataclass(frozen=True)
class Replay:
    requests: int
    spend_usd: float
    successes: float
    observed: dict[str, Any] | None = None  # the current routing: task_stats' row (OBSERVED)

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.requests if self.requests else None

    @property
    def cost_per_successful_request_usd(self) -> float | None:
        if self.observed is not None:
            v = self.observed["cost_per_successful_request_usd"]
            return None if v is None else float(v)
        return self.spend_usd / self.successes if self.successes > 0 else None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.requests,
            "spend_usd": _round(self.spend_usd),
            "success_rate": self.success_rate,
            "cost_per_successful_request_usd": _round(self.cost_per_successful_request_usd),
        }
        if self.observed is not None:
            out.update({k: json_scalar(self.observed[k]) for k in OBSERVED[1:]})
        return out


def observed(saved: TaskSavings, row: dict[str, Any] | None) -> TaskSavings:
    """``saved`` with its current replay carrying the marts' figures of the same requests
    (``task_stats``' row for the task and window): what the current routing costs per successful
    request and its P95 are the dashboard's, the CLI's and the report's, not re-derived here."""
    if saved.current is None or row is None:
        return saved
    return replace(saved, current=replace(saved.current, observed={k: row[k] for k in OBSERVED}))


@dataclass(frozen=True)
class TaskSavings:
    task: str
    current: Replay | None  # what the window's requests cost: observed
    proposed: Replay | None
    savings_usd: float | None
    low_usd: float | None
    high_usd: float | None
    note: str | None = None
    off_chain_requests: int = 0  # not on the current chain: kept as observed in both
    off_chain_spend_usd: float = 0.0
    imputed_usd: float = 0.0  # the part of the proposed spend the replay imputes
    model_error: float | None = None  # relative error of the imputation on the current chain
    model_error_usd: float = 0.0  # how far the interval was widened on each side for it

    def as_json(self) -> dict[str, object]:
        return {
            "task": self.task,
            "current": self.current.as_json() if self.current else None,
            "proposed": self.proposed.as_json() if self.proposed else None,
            "savings_usd": _round(self.savings_usd),
            "low_usd": _round(self.low_usd),
            "high_usd": _round(self.high_usd),
            "note": self.note,
            "off_chain_requests": self.off_chain_requests,
            "off_chain_spend_usd": _round(self.off_chain_spend_usd),
            "imputed_usd": _round(self.imputed_usd),
            "model_error": _round(self.model_error),
            "model_error_usd": _round(self.model_error_usd),
        }


def _round(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 6)


def on_chain(p: Pattern, chain: tuple[str, ...]) -> bool:
    """Whether the pattern's requests followed ``chain``: their stages are its first models."""
    return len(p.stages) <= len(chain) and all(
        st.model == m for st, m in zip(p.stages, chain, strict=False)
    )


def _agree(p: Pattern, chain: tuple[str, ...]) -> int:
    """How many of the pattern's stages ``chain`` repeats, from the first (up to its success)."""
    d = 0
    while d < len(chain) and d < len(p.stages) and p.stages[d].model == chain[d]:
        d += 1
        if p.stages[d - 1].ok:
            break
    return d


def _tails(
    ev_: Evaluator, chain: tuple[str, ...], scale: dict[str, np.ndarray] | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each d: (expected spend, expected success) of ``chain[d:]`` once ``chain[:d]`` failed,
    per weight row; ``d = len(chain)`` is the empty tail. ``scale``: per model, a factor on its
    stage cost per weight row (1 when not given)."""
    rows = ev_.stats.w.shape[0]
    scale = scale or {}
    ests = [ev_.stats.estimate(chain, j) for j in range(len(chain))]
    out = []
    for d in range(len(chain) + 1):
        reach, cost_reach = np.ones(rows), np.ones(rows)
        spend, succ = np.zeros(rows), np.zeros(rows)
        for j in range(d, len(chain)):
            est, m = ests[j], chain[j]
            stage = np.maximum(ev_.stage_cost(m, est.p), ev_.stage_cost(m, est.p_for_cost))
            stage = stage * scale.get(m, 1.0)
            # a stage never reached costs nothing, even when its cost is unknown
            spend = spend + np.where(cost_reach > 0, cost_reach * stage, 0.0)
            succ = succ + reach * est.p
            reach = reach * (1 - est.p)
            cost_reach = cost_reach * (1 - est.p_for_cost)
        out.append((spend, succ))
    return out


def _unpriced_value(ev: TaskEvidence, p: Pattern, j: int) -> float:
    """The unpriced attempts of stage ``j`` of ``p`` at their model's mean attempt cost (0 when
    there are none; NaN when the model has no price at all)."""
    k = p.stage_unpriced_attempts()[j]
    if not k:
        return 0.0
    obs = ev.models.get(p.stages[j].model)
    return math.nan if obs is None else k * obs.attempt_cost(p.stages[j].ok)


@dataclass
class _Plan:
    """One chain's replay of every pattern: per pattern, the observed spend it replaces, the
    tail it imputes (index into the chain's tails, -1: none) and the share of its cost spread
    replaced."""

    replaced: np.ndarray  # observed spend of the replaced stages (unpriced attempts valued)
    tail: np.ndarray  # d where the imputed tail starts, -1 where the request keeps its outcome
    share: np.ndarray  # replaced / observed spend: the share of the cost spread replaced


def _plan(ev: TaskEvidence, current: tuple[str, ...], chain: tuple[str, ...]) -> _Plan:
    n = len(ev.patterns)
    plan = _Plan(np.zeros(n), np.full(n, -1), np.zeros(n))
    for i, p in enumerate(ev.patterns):
        if not on_chain(p, current) or p.unrescuable:
            continue  # not routed by this chain, or failed whatever the chain: kept as it was
        d = _agree(p, chain)
        ended = p.stages[d - 1].ok if d else False
        gave_up = not p.succeeded and len(p.stages) < len(current)
        if ended or (d == len(p.stages) and gave_up):
            continue  # the request ends where the chain still does what it did
        costs = p.stage_spend()
        replaced = sum(costs[d:]) + sum(_unpriced_value(ev, p, j) for j in range(d, len(costs)))
        plan.replaced[i], plan.tail[i] = replaced, d
        plan.share[i] = min(sum(costs[d:]) / p.spend, 1.0) if p.spend > 0 else 1.0
    return plan


def _cost_scale(
    ev: TaskEvidence, chain: tuple[str, ...], rows: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per model of ``chain``, a factor on its mean cost per weight row: 1 in row 0 (the
    observed requests), elsewhere a normal draw with the relative standard error of that mean
    (the mean re-estimated on the resample, as the probabilities are)."""
    out: dict[str, np.ndarray] = {}
    for m in dict.fromkeys(chain):
        obs = ev.models.get(m)
        rse = obs.cost_rse() if obs is not None else 0.0
        f = np.ones(rows)
        if rows > 1 and rse > 0:
            f[1:] = np.maximum(1.0 + rse * rng.standard_normal(rows - 1), 0.0)
        out[m] = f
    return out


def _imputed(
    ev_: Evaluator, plan: _Plan, chain: tuple[str, ...], scale: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(imputed spend, imputed successes, lost successes) per weight row, per pattern."""
    w = ev_.stats.w
    spend, succ, lost = np.zeros(w.shape), np.zeros(w.shape), np.zeros(w.shape)
    tails = _tails(ev_, chain, scale) if (plan.tail >= 0).any() else []
    for i, p in enumerate(ev_.ev.patterns):
        d = int(plan.tail[i])
        if d < 0:
            continue
        spend[:, i], succ[:, i] = tails[d]
        lost[:, i] = float(p.succeeded)
    return spend, succ, lost


def _spread(ev: TaskEvidence, plan: _Plan, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per weight row but the first: a normal draw of how far the replaced spend of that many
    requests of each pattern may fall from their mean (row 0, the observed requests: 0)."""
    var = np.zeros(len(ev.patterns))
    for i, p in enumerate(ev.patterns):
        if plan.tail[i] >= 0 and p.n > 1:
            mean = p.spend / p.n
            var[i] = max(p.cost_sq / p.n - mean * mean, 0.0) * plan.share[i] ** 2
    out = np.zeros(w.shape[0])
    if w.shape[0] > 1 and var.any():
        z = rng.standard_normal((w.shape[0] - 1, len(var)))
        out[1:] = (np.sqrt(w[1:] * var) * z).sum(axis=1)
    return out


def _model_error(ev_: Evaluator, current: tuple[str, ...]) -> float:
    """Relative error of the imputation on the on-chain requests: the current chain imputed
    from its first stage, against what those requests cost. 1 (the whole imputed spend) where
    it cannot be measured: a model of the current chain has no price."""
    ev = ev_.ev
    on = np.array([on_chain(p, current) for p in ev.patterns], dtype=bool)
    if not on.any() or not current:
        return 0.0
    n = np.array([p.n for p in ev.patterns], dtype=float)
    observed = float(sum(p.spend for p, o in zip(ev.patterns, on, strict=True) if o))
    imputed = float(_tails(ev_, current)[0][0][0] * n[on].sum())
    if not math.isfinite(imputed):
        return 1.0
    if imputed <= 0:
        return 0.0 if observed == 0 else 1.0
    return abs(observed - imputed) / imputed


def savings(
    ev: TaskEvidence,
    current: tuple[str, ...],
    proposed: tuple[str, ...],
    s: Settings,
    resamples: int = RESAMPLES,
) -> tuple[TaskSavings, np.ndarray]:
    """The task's replay and the savings of every resample (row 0: the observed requests)."""
    # the same draws every run, whatever order the warehouse returned the patterns in
    ev = TaskEvidence(ev.task, sorted(ev.patterns, key=pattern_key), ev.models, ev.evals)
    counts = np.array([p.n for p in ev.patterns], dtype=float)
    total = int(counts.sum())
    if not total:
        return TaskSavings(ev.task, None, None, None, None, None, "no requests"), np.zeros(
            resamples + 1
        )
    spend = np.array([p.spend for p in ev.patterns], dtype=float)  # observed, per pattern
    succeeded = np.array([p.succeeded for p in ev.patterns], dtype=float)
    off = np.array([not on_chain(p, current) for p in ev.patterns], dtype=bool)
    cur = Replay(total, float(spend.sum()), float(counts @ succeeded))
    off_n, off_spend = int(counts[off].sum()), float(spend[off].sum())
    if proposed == current:
        unchanged = TaskSavings(
            ev.task,
            cur,
            cur,
            0.0,
            0.0,
            0.0,
            off_chain_requests=off_n,
            off_chain_spend_usd=off_spend,
        )
        return unchanged, np.zeros(resamples + 1)

    rng = np.random.default_rng(zlib.crc32(ev.task.encode()))
    draws = rng.multinomial(total, counts / total, size=resamples).astype(float)
    w = np.vstack([counts[None, :], draws])
    ev_ = Evaluator(ev, s, w)
    plan = _plan(ev, current, proposed)
    scale = _cost_scale(ev, proposed, w.shape[0], rng)
    tail_spend, tail_succ, lost = _imputed(ev_, plan, proposed, scale)
    replaced_mean = plan.replaced / np.where(counts > 0, counts, 1.0)
    # per request of each pattern: the saving, and the change in expected successes
    saving = np.where(plan.tail >= 0, replaced_mean, 0.0) - tail_spend
    diff = (w * saving).sum(axis=1) + _spread(ev, plan, w, rng)
    gained = (w * (tail_succ - lost)).sum(axis=1)
    imputed = float((w[0] * tail_spend[0]).sum())
    error = _model_error(ev_, current) if imputed > 0 else 0.0
    note = None
    if not np.isfinite(diff).all():
        note = "a model of the current or proposed chain has no price: savings unknown"
        diff = np.full_like(diff, np.nan)
    point = float(diff[0]) if note is None else None
    new = Replay(
        total,
        cur.spend_usd - point if point is not None else math.nan,
        cur.successes + float(gained[0]),
    )
    widen = error * imputed if note is None else 0.0
    low, high = (
        (
            float(np.percentile(diff[1:], 2.5)) - widen,
            float(np.percentile(diff[1:], 97.5)) + widen,
        )
        if resamples and note is None
        else (None, None)
    )
    return (
        TaskSavings(
            ev.task,
            cur,
            new,
            point,
            low,
            high,
            note,
            imputed_usd=imputed,
            model_error=error if note is None else None,
            model_error_usd=widen,
            off_chain_requests=off_n,
            off_chain_spend_usd=off_spend,
        ),
        diff,
    )


def total(per_task: list[tuple[TaskSavings, np.ndarray]]) -> dict[str, Any]:
    """The contract's ``savings`` object: spend under the current and proposed chains, and the
    95% interval of the savings: the bootstrap summed over tasks resample by resample, widened by
    the sum of the tasks' model errors. Tasks whose savings are unknown are left out of every
    figure (``unknown_tasks`` names them)."""
    known = [(t, d) for t, d in per_task if t.note is None and t.current and t.proposed]
    unknown = sorted(t.task for t, _ in per_task if t.current and t.note is not None)
    if not known:
        return {
            "current_spend_usd": None,
            "proposed_spend_usd": None,
            "savings_usd": None,
            "low_usd": None,
            "high_usd": None,
            "model_error_usd": None,
            "off_chain_requests": None,
            "unknown_tasks": unknown,
        }
    diffs = np.sum([d for _, d in known], axis=0)
    cur = sum(t.current.spend_usd for t, _ in known if t.current)
    new = sum(t.proposed.spend_usd for t, _ in known if t.proposed)
    widen = sum(t.model_error_usd for t, _ in known)
    rest = diffs[1:]
    return {
        "current_spend_usd": _round(cur),
        "proposed_spend_usd": _round(new),
        "savings_usd": _round(float(diffs[0])),
        "low_usd": _round(float(np.percentile(rest, 2.5)) - widen) if len(rest) else None,
        "high_usd": _round(float(np.percentile(rest, 97.5)) + widen) if len(rest) else None,
        "model_error_usd": _round(widen),
        "off_chain_requests": sum(t.off_chain_requests for t, _ in known),
        "unknown_tasks": unknown,
    }
