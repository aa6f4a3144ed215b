"""Per task: the cheapest fallback chain whose lower confidence bounds meet every target.

1. Hard filters drop models: not among ``allowed_providers`` (sensitive data), fewer than
   ``min_samples`` attempts, no price, a P95 over the latency target, a quality under
   ``min_quality``.
2. Every chain of length 1 to 3 over the remaining models is estimated from the conditional
   outcomes in the logs (:class:`app.tuner.evidence.Stats`): success probability and its
   lower bound (each stage at its Wilson lower bound), expected cost per request and per
   successful request, and P95 latency by resampling the observed latencies of each stage
   (failed stages and retries included).
3. The cheapest chain per successful request whose success lower bound meets the success target
   and whose P95 meets the latency target wins; ties go to the lower P95, then the shorter chain.

Too few requests gives ``insufficient_data``; no qualifying chain gives ``infeasible`` naming the
constraint that binds. Every result carries one-line reasons with their numbers.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from app.tuner import explore
from app.tuner.evidence import (
    Estimate,
    Index,
    Stats,
    TaskEvidence,
    discount,
    latency_pool,
    mean_attempts,
    stage_attempts,
    wilson_low,
)
from app.tuner.explore import Plan
from app.tuner.manifest import Provider, Task

MAX_CHAIN = 3
SIMULATIONS = 4000
DRAWS = 4000  # posterior draws of each stage's success, for the chain's joint uncertainty
COST_TIE = 1e-9  # relative: chains this close in cost are a tie


@dataclass(frozen=True)
class Settings:
    min_samples: int = 30
    min_pair_samples: int = 10
    correlation: float = 0.5  # assumed failure correlation where the logs have no evidence
    min_improvement: float = 0.01  # a compliant current chain is replaced only if this much cheaper
    confidence: float = 0.95  # P(the chain meets the success target) a proposal needs
    exploration_share: float = 0.1  # of a task's traffic an exploration plan sends to its chain
    max_exploration_days: int = 28  # a plan that needs longer is not proposed
    window_days: int = 28  # days of evidence the requests counted come from


@dataclass
class ChainEval:
    chain: tuple[str, ...]
    success: float
    success_low: float
    cost: float  # expected cost of one request
    stages: list[Estimate]
    p95_ms: float | None = None
    # the forecast's 95% intervals (what verification after approval compares actuals with)
    success_interval: tuple[float, float] | None = None
    p95_interval: tuple[float, float] | None = None
    cost_rse: float = 0.0  # relative standard error of the cost per request (its models' own)

    @property
    def cost_per_success(self) -> float:
        return self.cost / self.success if self.success > 0 else math.inf

    @property
    def label(self) -> str:
        return " → ".join(self.chain)


@dataclass(frozen=True)
class Exclusion:
    model: str
    constraint: str  # allowed_providers | min_samples | price | latency_target_ms | min_quality
    reason: str


@dataclass
class TaskResult:
    task: str
    status: str  # changed | unchanged | insufficient_data | infeasible
    current_chain: tuple[str, ...]
    proposed_chain: tuple[str, ...]
    current: ChainEval | None
    proposed: ChainEval | None
    reasons: list[str]
    candidates: list[ChainEval] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    binding: str | None = None
    requests: int = 0
    plan: Plan | None = None  # an experiment where the logs cannot yet decide
    experiment: str | None = None  # what became of the one under way (explore.conclude)
    explored: list[ChainEval] = field(default_factory=list)  # the chains an experiment may test


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _target(x: float) -> str:
    """A target as written: 0.98 -> 98%, 0.9999 -> 99.99%."""
    return f"{x * 100:.6g}%"


def _usd(x: float) -> str:
    return "unknown" if not math.isfinite(x) else f"${x:,.6f}" if x < 1 else f"${x:,.2f}"


def _ms(x: float | None) -> str:
    return "unknown" if x is None else f"{x:,.0f} ms"


def _at_least(low: float) -> str:
    """A Wilson lower bound in words."""
    return f"at least {_pct(low)} with 95% confidence"


# what a hard constraint means, for a reader of the reasons (the manifest key in brackets)
CONSTRAINTS = {
    "allowed_providers": "the providers the task allows (allowed_providers)",
    "min_samples": "too few attempts (tuner.min_samples)",
    "price": "a missing price",
    "latency_target_ms": "the latency target (latency_target_ms)",
    "min_quality": "the minimum quality (min_quality)",
    "success_target": "the success target (success_target)",
}


def quality(ev: TaskEvidence, m: str) -> tuple[float, str] | None:
    """(quality, how it was measured, in words): the imported eval score, else the 95% lower
    bound (Wilson) of the validation pass rate; None when neither exists."""
    if m in ev.evals:
        score, n = ev.evals[m]
        return score, f"eval score {score:.3f} (from {n:,} imported scores)"
    obs = ev.models.get(m)
    if obs is None or not obs.validated:
        return None
    low = float(wilson_low(np.array([obs.passed]), np.array([obs.validated]))[0])
    rate = obs.passed / obs.validated
    return low, (
        f"validation passed {obs.passed:,} of {obs.validated:,} answers ({_pct(rate)}, "
        f"{_at_least(low)})"
    )


def _allowed(p: Provider | None, obs_providers: set[str], allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    names = {p.name, p.model, p.vendor} if p else set()
    return bool((names | obs_providers) & set(allowed))


def eligible(
    ev: TaskEvidence, task: Task, providers: dict[str, Provider], s: Settings
) -> tuple[list[str], list[Exclusion]]:
    keep: list[str] = []
    out: list[Exclusion] = []
    for m, obs in sorted(ev.models.items()):
        if m not in providers:
            continue  # not routable: the manifest has no provider entry for it
        if not _allowed(providers[m], obs.providers, task.allowed_providers):
            out.append(
                Exclusion(
                    m,
                    "allowed_providers",
                    f"{m} excluded: its provider is not one the task allows "
                    f"(allowed_providers: {', '.join(task.allowed_providers)})",
                )
            )
            continue
        if obs.attempts < s.min_samples and m not in ev.priors:
            out.append(
                Exclusion(
                    m,
                    "min_samples",
                    f"{m} not considered: only {obs.attempts:,} attempts on this task, fewer "
                    f"than the {s.min_samples:,} the tuner needs to judge a model "
                    "(tuner.min_samples)",
                )
            )
            continue
        if not obs.priced:
            out.append(
                Exclusion(
                    m,
                    "price",
                    f"{m} excluded: it has no price, so what a successful request costs on "
                    "it is unknown (see `routeledger prices unmatched`)",
                )
            )
            continue
        target = task.latency_target_ms
        if target is not None and (obs.p95_ms is None or obs.p95_ms > target):
            out.append(
                Exclusion(
                    m,
                    "latency_target_ms",
                    f"{m} excluded: too slow: 95% of its {obs.successes:,} successful "
                    f"attempts took up to {_ms(obs.p95_ms)} (P95), over the task's "
                    f"{_ms(target)} latency target",
                )
            )
            continue
        if task.min_quality is not None:
            q = quality(ev, m)
            if q is None or q[0] < task.min_quality:
                got = "no eval scores or validation results" if q is None else q[1]
                out.append(
                    Exclusion(
                        m,
                        "min_quality",
                        f"{m} excluded: quality below the task's minimum of "
                        f"{task.min_quality:g} (min_quality): {got}",
                    )
                )
                continue
        keep.append(m)
    return keep, out


class Evaluator:
    """Chain estimates for one task, from one weight matrix (observed counts by default)."""

    def __init__(self, ev: TaskEvidence, s: Settings, w: np.ndarray | None = None) -> None:
        self.ev = ev
        self.index = Index(ev.patterns)
        self.stats = Stats(
            self.index,
            w,
            min_samples=s.min_samples,
            min_pair_samples=s.min_pair_samples,
            correlation=s.correlation,
            priors=ev.priors,
        )
        self._pools: dict[tuple[str, bool], np.ndarray] = {}
        self._stage_costs: dict[str, tuple[float, float]] = {}
        self._draws: dict[tuple[tuple[str, ...], str], np.ndarray] = {}
        self.confidence = s.confidence
        lost = [p for p in ev.patterns if p.unrescuable]
        n_lost = sum(p.n for p in lost)
        self.unrescuable_cost = sum(p.spend for p in lost) / n_lost if n_lost else 0.0

    def draws(self, chain: tuple[str, ...], j: int, est: Estimate) -> np.ndarray:
        """:data:`DRAWS` draws of stage ``j``'s success from its posterior given the logs'
        counts (Jeffreys Beta(k + 1/2, n - k + 1/2)); a stage never seen after both earlier
        models failed takes its rate after one failure discounted as the point estimate is
        (:func:`app.tuner.evidence.discount`, drawn too); an assumed stage keeps its
        conservative rate. Seeded by the task and the stage, so the same logs give the same
        draws, and chains sharing a stage share its draws."""
        key = (chain[max(0, j - 2) : j], chain[j])
        got = self._draws.get(key)
        if got is not None:
            return got
        k, n = float(est.k[0]), float(est.n[0])
        if est.source == "pooled" and est.prior is not None:
            seed = zlib.crc32("|".join((self.ev.task, *key[0], "->", key[1])).encode())
            w, mu = est.prior.weight, est.prior.mean
            a, b = k + w * mu + 0.5, n - k + w * (1 - mu) + 0.5
            got = np.random.default_rng(seed).beta(a, b, DRAWS)
        elif est.source in ("assumed", "none") or n <= 0:
            got = np.full(DRAWS, float(est.p[0]))
        else:
            seed = zlib.crc32("|".join((self.ev.task, *key[0], "->", key[1])).encode())
            rng = np.random.default_rng(seed)
            got = rng.beta(k + 0.5, n - k + 0.5, DRAWS)
            if est.source == "partial":
                every = self.stats.marginal(chain[j])
                km, nm = float(every.k[0]), float(every.n[0])
                got = got * discount(got, rng.beta(km + 0.5, nm - km + 0.5, DRAWS))
        self._draws[key] = got
        return got

    def success_draws(self, chain: tuple[str, ...], stages: list[Estimate]) -> np.ndarray:
        """The chain's success, :data:`DRAWS` times, its stages drawn together; the requests
        that failed whatever the chain (the client's own refused requests) fail on it too."""
        fail = np.ones(DRAWS)
        for j, est in enumerate(stages):
            fail = fail * (1.0 - self.draws(chain, j, est))
        return (1.0 - float(self.stats.unrescuable()[0])) * (1.0 - fail)

    def success_low(self, chain: tuple[str, ...], stages: list[Estimate]) -> float:
        """The chain's success that it meets with probability :attr:`Settings.confidence`: a
        lower quantile of its success over the stages' posteriors drawn together (not each
        stage at its own lower bound at once, which is far more pessimistic than the
        confidence says)."""
        return float(np.quantile(self.success_draws(chain, stages), 1.0 - self.confidence))

    def stage_cost(self, m: str, p: np.ndarray) -> np.ndarray:
        """Expected cost of a stage on ``m`` that succeeds with probability ``p`` (retries on
        the same model included)."""
        if m not in self._stage_costs:
            obs = self.ev.models.get(m)
            if obs is None:
                self._stage_costs[m] = (math.nan, math.nan)
            else:
                c_ok, c_fail = obs.attempt_cost(True), obs.attempt_cost(False)
                self._stage_costs[m] = (
                    (mean_attempts(self.index, m, True) - 1) * c_fail + c_ok,
                    mean_attempts(self.index, m, False) * c_fail,
                )
        ok_stage, fail_stage = self._stage_costs[m]
        return p * ok_stage + (1 - p) * fail_stage

    def vectors(
        self, chain: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Estimate]]:
        """(success, success lower bound, expected cost) per weight row, and the stages. A stage
        whose success after the earlier failures is assumed, not observed, counts toward success
        at its assumed (conservative) rate, and as rescuing nothing toward cost: every request
        reaching it is costed as going on down the chain."""
        rows = self.stats.w.shape[0]
        gone = self.stats.unrescuable()  # fail on any chain, at what they cost
        reach, success, fail_low = np.ones(rows), np.zeros(rows), np.ones(rows)
        cost_reach, cost = np.ones(rows), np.zeros(rows)
        stages = []
        for j, m in enumerate(chain):
            est = self.stats.estimate(chain, j)
            stages.append(est)
            stage = np.maximum(self.stage_cost(m, est.p), self.stage_cost(m, est.p_for_cost))
            # a stage never reached costs nothing, even when its cost is unknown
            cost = cost + np.where(cost_reach > 0, cost_reach * stage, 0.0)
            success = success + reach * est.p
            fail_low = fail_low * (1 - est.low)
            reach = reach * (1 - est.p)
            cost_reach = cost_reach * (1 - est.p_for_cost)
        kept = 1.0 - gone
        cost = kept * cost + gone * self.unrescuable_cost
        return kept * success, kept * (1 - fail_low), cost, stages

    def evaluate(self, chain: tuple[str, ...]) -> ChainEval:
        success, _, cost, stages = self.vectors(chain)
        low = min(self.success_low(chain, stages), float(success[0]))
        return ChainEval(chain, float(success[0]), low, float(cost[0]), stages)

    def forecast(self, e: ChainEval) -> ChainEval:
        """``e`` with its 95% intervals: success (its stages drawn together) and P95."""
        if e.success_interval is None:
            draws = self.success_draws(e.chain, e.stages)
            lo, hi = np.quantile(draws, [0.025, 0.975])
            e.success_interval = (float(min(lo, e.success)), float(max(hi, e.success)))
            rse = [self.ev.models[m].cost_rse() for m in e.chain if m in self.ev.models]
            e.cost_rse = max(rse, default=0.0)
        self.p95(e)
        return e

    def _pool(self, m: str, ok: bool) -> np.ndarray:
        key = (m, ok)
        if key not in self._pools:
            obs = self.ev.models.get(m)
            rng = np.random.default_rng(zlib.crc32(f"{self.ev.task}|{m}|{ok}".encode()))
            grids = [] if obs is None else obs.latency.get(ok) or obs.latency.get(not ok) or []
            self._pools[key] = latency_pool(grids, rng)
        return self._pools[key]

    def p95(self, e: ChainEval) -> float | None:
        """P95 end-to-end latency of the chain's successful requests, by resampling the observed
        latencies of each stage (a failed stage's latency, and its retries, add to the total)."""
        if e.p95_ms is not None:
            return e.p95_ms
        rng = np.random.default_rng(zlib.crc32("|".join((self.ev.task, *e.chain)).encode()))
        n = SIMULATIONS
        total, alive, done = np.zeros(n), np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        for m, est in zip(e.chain, e.stages, strict=True):
            ok = alive & (rng.random(n) < float(est.p[0]))
            for outcome, mask in ((True, ok), (False, alive & ~ok)):
                count = int(mask.sum())
                last, retry = self._pool(m, outcome), self._pool(m, False)
                if not count or not len(last):
                    continue
                r, w = stage_attempts(self.index, m, outcome)
                extra = rng.choice(r, size=count, p=w) - 1
                lat = rng.choice(last, size=count)
                if extra.max() > 0 and len(retry):
                    draws = rng.choice(retry, size=(count, int(extra.max())))
                    lat = lat + (draws * (np.arange(draws.shape[1]) < extra[:, None])).sum(axis=1)
                total[mask] += lat
            done |= ok
            alive &= ~ok
        e.p95_ms = float(np.quantile(total[done], 0.95)) if done.any() else None
        if done.any():  # its 95% interval: the simulated requests resampled
            ok_total = total[done]
            idx = rng.integers(0, len(ok_total), size=(200, len(ok_total)))
            spread = np.quantile(ok_total[idx], 0.95, axis=1)
            e.p95_interval = (float(np.quantile(spread, 0.025)), float(np.quantile(spread, 0.975)))
        return e.p95_ms


def _meets_latency(p95: float | None, target: float | None) -> bool:
    return target is None or (p95 is not None and p95 <= target)


def recommend(
    ev: TaskEvidence,
    task: Task,
    providers: dict[str, Provider],
    s: Settings,
    start: date | None = None,
) -> TaskResult:
    """The proposal for one task, and where the logs cannot decide, an exploration plan
    (:mod:`app.tuner.explore`; ``start``: the first day it would run)."""
    ev_ = Evaluator(ev, s)
    result = _recommend(ev_, ev, task, providers, s)
    for e in (result.current, result.proposed):
        if e is not None:
            ev_.forecast(e)
    if result.status != "changed" and result.current is not None:
        result.explored = explorable(ev_, ev, task, providers, s, result.candidates)
        result.plan = explore.plan(result, result.explored, ev_, task, s, start or date.today())
        if result.plan is not None:
            result.reasons.append(result.plan.reason)
    return result


def explorable(
    ev_: Evaluator,
    ev: TaskEvidence,
    task: Task,
    providers: dict[str, Provider],
    s: Settings,
    candidates: list[ChainEval],
) -> list[ChainEval]:
    """Every chain an experiment may test: over the models the task may use, those with too
    few requests to judge included (the proposal's own candidates when there are none)."""
    models, _ = eligible(ev, task, providers, replace(s, min_samples=1))
    if set(models) <= {m for c in candidates for m in c.chain}:
        return candidates
    chains = [c for k in range(1, MAX_CHAIN + 1) for c in itertools.permutations(models, k)]
    return [ev_.evaluate(c) for c in chains]


def _recommend(
    ev_: Evaluator, ev: TaskEvidence, task: Task, providers: dict[str, Provider], s: Settings
) -> TaskResult:
    current_chain = task.chain
    current = ev_.evaluate(current_chain) if ev.patterns else None
    if current is not None:
        ev_.p95(current)
    result = TaskResult(
        task.name,
        "unchanged",
        current_chain,
        current_chain,
        current,
        current,
        [],
        requests=ev.requests,
    )
    if ev.requests < s.min_samples and not ev.priors:
        result.status = "insufficient_data"
        result.reasons.append(
            f"insufficient data: only {ev.requests:,} requests in the window, fewer than the "
            f"{s.min_samples:,} the tuner needs (tuner.min_samples); chain kept"
        )
        return result
    keep, result.exclusions = eligible(ev, task, providers, s)
    if not keep:
        counts = Counter(x.constraint for x in result.exclusions)
        if not counts or set(counts) == {"min_samples"}:
            result.status = "insufficient_data"
            result.reasons.append(
                f"insufficient data: no model has the {s.min_samples:,} attempts on this task "
                "the tuner needs (tuner.min_samples); chain kept"
            )
        else:
            result.status, result.binding = "infeasible", counts.most_common(1)[0][0]
            excluded = sum(counts.values())
            result.reasons.append(
                f"infeasible: no model is left to route to: {excluded:,} excluded, most because of "
                f"{CONSTRAINTS.get(result.binding, result.binding)}; chain kept"
            )
        result.reasons += [x.reason for x in result.exclusions]
        return result
    chains = [c for k in range(1, MAX_CHAIN + 1) for c in itertools.permutations(keep, k)]
    cands = [ev_.evaluate(c) for c in chains]
    result.candidates = cands
    target = task.success_target
    ok = sorted(
        (c for c in cands if c.success_low >= target and math.isfinite(c.cost)),
        key=lambda c: (c.cost_per_success, len(c.chain), c.chain),
    )
    chosen: ChainEval | None = None
    for c in ok:
        if chosen is not None and c.cost_per_success > chosen.cost_per_success * (1 + COST_TIE):
            break
        if not _meets_latency(ev_.p95(c), task.latency_target_ms):
            continue
        if chosen is None or (c.p95_ms or 0, len(c.chain)) < (
            chosen.p95_ms or 0,
            len(chosen.chain),
        ):
            chosen = c
    if chosen is None and ev.requests < s.min_samples:
        # a small task: even its models' other tasks cannot show a chain that meets the target
        result.status = "insufficient_data"
        result.reasons.append(
            f"insufficient data: only {ev.requests:,} requests in the window, fewer than the "
            f"{s.min_samples:,} the tuner needs (tuner.min_samples), and with its models' "
            "outcomes on other tasks pooled in, no chain can be shown to meet the "
            f"{_target(task.success_target)} success target; chain kept"
        )
        result.reasons += [x.reason for x in result.exclusions]
        return result
    if chosen is None:
        result.status = "infeasible"
        result.reasons.append(_binding(result, ev_, ok, cands, task))
        result.reasons += _misses(current, task, result.exclusions, ev_)
        result.reasons += [x.reason for x in result.exclusions]
        return result
    misses = _misses(current, task, result.exclusions, ev_)
    if (
        chosen.chain != current_chain
        and current is not None
        and not misses
        and chosen.cost_per_success >= current.cost_per_success * (1 - s.min_improvement)
    ):
        # a current chain that costs nothing (free models, cache hits) leaves nothing to save
        saving = (
            1 - chosen.cost_per_success / current.cost_per_success
            if current.cost_per_success > 0
            else 0.0
        )
        gain = (
            f"would save only {saving:.2%} per successful request (less than the "
            f"{s.min_improvement:.0%} a change must save, tuner.min_improvement)"
            if saving > 0
            else "is no cheaper per successful request"
        )
        result.reasons.append(
            f"kept {current.label}: it meets every target (it {_summary(current)}); the "
            f"cheapest alternative, {chosen.label}, {gain}"
        )
        result.reasons += [x.reason for x in result.exclusions]
        return result
    result.proposed, result.proposed_chain = chosen, chosen.chain
    result.status = "unchanged" if chosen.chain == current_chain else "changed"
    result.reasons += _explain(result, task, chosen, current, s)
    result.reasons += misses
    result.reasons += [x.reason for x in result.exclusions]
    return result


def _misses(
    current: ChainEval | None, task: Task, exclusions: list[Exclusion], ev_: Evaluator
) -> list[str]:
    """What the current chain breaks: a target, or a hard constraint on one of its models."""
    if current is None:
        return ["the current chain has no requests in the window to judge it by"]
    out = []
    if current.success_low < task.success_target:
        out.append(
            f"the current chain misses the {_target(task.success_target)} success target: it "
            f"succeeds on {_pct(current.success)} of requests, {_at_least(current.success_low)}"
        )
    target = task.latency_target_ms
    if target is not None and not _meets_latency(ev_.p95(current), target):
        out.append(
            f"the current chain misses the {_ms(target)} latency target: 95% of its successful "
            f"requests take up to {_ms(current.p95_ms)} (P95)"
        )
    hard = {"allowed_providers", "latency_target_ms", "min_quality"}
    for x in exclusions:
        if x.model in current.chain and x.constraint in hard:
            out.append(
                f"the current chain uses {x.model}, which breaks "
                f"{CONSTRAINTS.get(x.constraint, x.constraint)}"
            )
    return out


def _binding(
    r: TaskResult, ev_: Evaluator, ok: list[ChainEval], cands: list[ChainEval], task: Task
) -> str:
    if not ok:
        best = max(cands, key=lambda c: c.success_low)
        r.binding = "success_target"
        return (
            f"infeasible: no chain can be shown to meet the {_target(task.success_target)} "
            f"success target (success_target): the best, {best.label}, succeeds on "
            f"{_pct(best.success)} of requests, {_at_least(best.success_low)}; chain kept"
        )
    r.binding = "latency_target_ms"
    timed = [c for c in ok[:200] if ev_.p95(c) is not None]
    fastest = min(timed, key=lambda c: c.p95_ms or math.inf) if timed else ok[0]
    return (
        f"infeasible: no chain meeting the success target also meets the "
        f"{_ms(task.latency_target_ms)} latency target (latency_target_ms): the fastest, "
        f"{fastest.label}, takes up to {_ms(fastest.p95_ms)} for 95% of its successful requests "
        "(P95); chain kept"
    )


def _summary(e: ChainEval) -> str:
    """A chain's estimate in words: success (of how many requests, for one model), its lower
    bound, cost per successful request, P95."""
    n = int(e.stages[0].n[0]) if len(e.chain) == 1 and e.stages else 0
    of = f"{_pct(e.success)} of {n:,} requests" if n else f"an estimated {_pct(e.success)}"
    return (
        f"succeeds on {of} ({_at_least(e.success_low)}) at {_usd(e.cost_per_success)} per "
        f"successful request, P95 latency {_ms(e.p95_ms)}"
    )


def _compared(chosen: ChainEval, current: ChainEval | None) -> str:
    """``38% less than the current chain`` (cost per successful request)."""
    if current is None or not math.isfinite(current.cost_per_success):
        return "the current chain's cost is unknown"
    if current.cost_per_success <= 0 or not math.isfinite(chosen.cost_per_success):
        return "no cost comparison with the current chain"
    change = chosen.cost_per_success / current.cost_per_success - 1
    if abs(change) < 0.0005:
        return "the same cost per successful request as the current chain"
    word = "less" if change < 0 else "more"
    return f"{abs(change):.0%} {word} per successful request than the current chain"


_AFTER = re.compile(r" after (.+?) failed")
_SEEN = re.compile(r"only (\d+) observed")


def stage_reason(chain: tuple[str, ...], j: int, est: Estimate, s: Settings) -> str:
    """How stage ``j`` of ``chain`` was estimated, in words, with its counts and percentages."""
    m = chain[j]
    k, n = int(est.k[0]), int(est.n[0])
    rate, low = float(est.p[0]), float(est.low[0])
    found = _AFTER.search(est.note)
    after = found.group(1) if found else " and ".join(chain[max(0, j - 2) : j])
    if est.source == "first":
        return (
            f"{m} as the first model: succeeded on {k:,} of {n:,} requests ({_pct(rate)}, "
            f"{_at_least(low)})"
        )
    if est.source == "pooled" and est.prior is not None:
        pr = est.prior
        return (
            f"{m} as the first model: succeeded on {k:,} of {n:,} requests of this task, too few "
            f"to judge it alone, so pooled with its {pr.requests:,} requests on {pr.tasks} other "
            f"task{'s' if pr.tasks != 1 else ''} ({_pct(pr.mean)} succeeded there, counted as "
            f"{pr.weight:.0f} requests of this one): {_pct(rate)}, {_at_least(low)}"
        )
    if est.source == "marginal":
        return (
            f"{m} as the first model: never first in the window, so measured where it ran "
            f"later: succeeded on {k:,} of {n:,} attempts ({_pct(rate)}, {_at_least(low)})"
        )
    if est.source == "conditional":
        return (
            f"{m} after {after} failed on the same request: succeeded on {k:,} of {n:,} "
            f"of those requests ({_pct(rate)}, {_at_least(low)})"
        )
    if est.source == "partial":
        both = " and ".join(chain[max(0, j - 2) : j])
        return (
            f"{m} after {after} failed on the same request: succeeded on {k:,} of {n:,} of "
            f"those requests ({_pct(k / n if n else 0.0)}); never seen after both {both} "
            f"failed, so counted as {_pct(rate)}, assuming the other failure says as much about "
            "the request as the one seen"
        )
    if est.source == "assumed":
        seen = _SEEN.search(est.note)
        times = f"seen only {seen.group(1)} times" if seen else "never seen"
        return (
            f"{m} after {after} failed: {times} in the window (the tuner needs "
            f"{s.min_pair_samples:,}), so it is assumed to rescue {rate:.0%} of those requests, a "
            "cautious figure since failures of one request often go together "
            f"(tuner.assumed_failure_correlation {s.correlation:g}); no saving is counted from it"
        )
    return f"{m}: no requests in the window to judge it by"


def _explain(
    r: TaskResult, task: Task, chosen: ChainEval, current: ChainEval | None, s: Settings
) -> list[str]:
    targets = f"the {_target(task.success_target)} success target" + (
        f" and the {_ms(task.latency_target_ms)} latency target" if task.latency_target_ms else ""
    )
    out: list[str] = []
    if r.status == "changed":
        now = (
            f"the current chain, {current.label}, {_summary(current)}"
            if current
            else "the current chain has no estimate"
        )
        out.append(
            f"{chosen.label} instead of {' → '.join(task.chain)}: it "
            f"{_summary(chosen)}, meeting {targets}, {_compared(chosen, current)}; {now}"
        )
    else:
        out.append(
            f"kept {chosen.label}: still the cheapest chain meeting {targets}: it "
            f"{_summary(chosen)}"
        )
    for j, est in enumerate(chosen.stages):
        out.append(stage_reason(chosen.chain, j, est, s))
    return out
