"""The evidence the tuner decides on: per task, the logical requests reduced to *patterns* of
stages, and per model its attempt outcomes, costs, latencies and quality.

A *stage* is a run of consecutive attempts on one model (retries on the same model belong to one
stage); a request's *pattern* is its sequence of stages. Every stage but the last failed; the
last succeeded exactly when the request did. :func:`collect` reads both aggregates
(:mod:`app.tuner.queries`) in one short read-only unit of work; :meth:`TaskEvidence.named`
renames logged models to the manifest's provider names (merging stages that become one).

:class:`Stats` turns patterns into the estimates a chain needs, from the *conditional* outcomes
in the logs: how often model B succeeded on requests where A had just failed. It works on a
matrix of pattern weights (one row per bootstrap resample, or one row of observed counts), so
the savings bootstrap re-estimates everything per resample with the same code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import duckdb
import numpy as np

from app.tuner import queries

Vec = np.ndarray  # shape (B,): one value per weight row
Z = 1.96


@dataclass(frozen=True)
class Stage:
    model: str
    ok: bool
    attempts: int = 1


@dataclass(frozen=True)
class Pattern:
    stages: tuple[Stage, ...]
    n: int
    priced_n: int = 0
    priced_cost: float = 0.0  # total cost of the requests of this pattern that were fully priced
    cost: float | None = None  # what its requests cost (unpriced attempts not summed); None:
    # not given (hand-made evidence): ``priced_cost``
    cost_sq: float = 0.0  # sum of the squares of its requests' costs: their spread
    stage_cost: tuple[float, ...] = ()  # ``cost`` per stage (empty: not given)
    stage_unpriced: tuple[int, ...] = ()  # attempts without a cost, per stage
    # failed whatever the chain (the client's own request refused: app.tuner.queries.UNRESCUABLE):
    # no evidence about any model's stage, a failure every chain keeps
    unrescuable: bool = False

    @property
    def succeeded(self) -> bool:
        return self.stages[-1].ok

    @property
    def spend(self) -> float:
        """What the pattern's requests cost, as ``task_stats`` sums it."""
        return self.priced_cost if self.cost is None else self.cost

    def stage_spend(self) -> tuple[float, ...]:
        """:attr:`spend` per stage; when not given, split in proportion to the attempts."""
        if len(self.stage_cost) == len(self.stages):
            return self.stage_cost
        attempts = sum(st.attempts for st in self.stages)
        return tuple(self.spend * st.attempts / attempts for st in self.stages)

    def stage_unpriced_attempts(self) -> tuple[int, ...]:
        if len(self.stage_unpriced) == len(self.stages):
            return self.stage_unpriced
        return tuple(0 for _ in self.stages)

    def merged(self, other: Pattern) -> Pattern:
        """This pattern and ``other`` (the same stages) as one."""
        return Pattern(
            self.stages,
            self.n + other.n,
            self.priced_n + other.priced_n,
            self.priced_cost + other.priced_cost,
            self.spend + other.spend,
            self.cost_sq + other.cost_sq,
            tuple(a + b for a, b in zip(self.stage_spend(), other.stage_spend(), strict=True)),
            tuple(
                a + b
                for a, b in zip(
                    self.stage_unpriced_attempts(), other.stage_unpriced_attempts(), strict=True
                )
            ),
            self.unrescuable,
        )


def pattern_key(p: Pattern) -> tuple[tuple[str, bool, int], ...]:
    """A total order of patterns (the warehouse returns groups in no set order)."""
    return tuple((str(st.model), st.ok, st.attempts) for st in p.stages) + (
        ("", p.unrescuable, -1),
    )


@dataclass
class ModelObs:
    """One model's attempts on one task in the window (all providers that served it)."""

    model: str
    providers: set[str] = field(default_factory=set)
    logged: set[str] = field(default_factory=set)  # the served-model strings merged here
    attempts: int = 0
    successes: int = 0
    cost: dict[bool, tuple[float, int]] = field(default_factory=dict)  # ok -> (sum, priced n)
    cost_sq: dict[bool, float] = field(default_factory=dict)  # ok -> sum of squared costs
    validated: int = 0
    passed: int = 0
    quality_sum: float = 0.0
    scored: int = 0
    p95_ms: float | None = None  # successful attempts
    latency: dict[bool, list[tuple[int, Any]]] = field(default_factory=dict)  # ok -> (n, grid)

    def attempt_cost(self, ok: bool) -> float:
        """Mean cost of one attempt with this outcome; the other outcome's mean when none with
        this one was priced; NaN when the model has no priced attempt at all."""
        for outcome in (ok, not ok):
            s, n = self.cost.get(outcome, (0.0, 0))
            if n:
                return s / n
        return math.nan

    def cost_rse(self, ok: bool = True) -> float:
        """Relative standard error of :meth:`attempt_cost` (0 where it cannot be told): how
        far the mean cost the replay imputes with may be from this model's true mean."""
        for outcome in (ok, not ok):
            s, n = self.cost.get(outcome, (0.0, 0))
            if n:
                mean = s / n
                if n < 2 or mean <= 0:
                    return 0.0
                var = max(self.cost_sq.get(outcome, 0.0) / n - mean * mean, 0.0)
                return math.sqrt(var / n) / mean
        return 0.0

    @property
    def priced(self) -> bool:
        return any(n for _, n in self.cost.values())

    def merge(self, other: ModelObs) -> None:
        self.providers |= other.providers
        self.logged |= other.logged
        self.attempts += other.attempts
        self.successes += other.successes
        for ok, (s, n) in other.cost.items():
            s0, n0 = self.cost.get(ok, (0.0, 0))
            self.cost[ok] = (s0 + s, n0 + n)
        for ok, q in other.cost_sq.items():
            self.cost_sq[ok] = self.cost_sq.get(ok, 0.0) + q
        self.validated += other.validated
        self.passed += other.passed
        self.quality_sum += other.quality_sum
        self.scored += other.scored
        if other.p95_ms is not None:
            self.p95_ms = max(self.p95_ms or 0.0, other.p95_ms)
        for ok, grids in other.latency.items():
            self.latency.setdefault(ok, []).extend(grids)


@dataclass(frozen=True)
class Prior:
    """What a model's first attempts did on the other tasks, as a prior for a task where it has
    few: its success rate there (``mean``), counted as ``weight`` requests of this task (less
    the more the model's rate varies from task to task), from ``requests`` requests on
    ``tasks`` other tasks."""

    mean: float
    weight: float
    requests: int
    tasks: int


MAX_PRIOR_WEIGHT = 20.0  # a prior never counts as more than this many of the task's requests
MIN_PRIOR_WEIGHT = 2.0


def priors(evidence: Mapping[str, TaskEvidence], min_requests: int) -> dict[str, dict[str, Prior]]:
    """Per task, per model: its :class:`Prior` from the other tasks (leave-one-out), where it
    was the first model of at least ``min_requests`` requests there. The weight comes from how
    much its success rate varies between tasks (method of moments on the Beta prior,
    ``mean (1 - mean) / variance - 1``, between :data:`MIN_PRIOR_WEIGHT` and
    :data:`MAX_PRIOR_WEIGHT`; a model seen on one other task only gets the least): a model good
    on some tasks only lends little."""
    first: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)  # model -> task -> (n, k)
    for task, ev in evidence.items():
        for p in ev.patterns:
            m = p.stages[0].model
            n, k = first[m].get(task, (0, 0))
            first[m][task] = (n + p.n, k + p.n * int(p.stages[0].ok))
    out: dict[str, dict[str, Prior]] = defaultdict(dict)
    for m, per_task in first.items():
        for task in evidence:
            others = [(n, k) for t, (n, k) in per_task.items() if t != task and n > 0]
            total = sum(n for n, _ in others)
            if total < min_requests:
                continue
            mean = sum(k for _, k in others) / total
            weight = MIN_PRIOR_WEIGHT
            if len(others) >= 2 and 0 < mean < 1:
                var = sum(n * (k / n - mean) ** 2 for n, k in others) / total
                weight = mean * (1 - mean) / max(var, 1e-6) - 1
            elif len(others) >= 2:  # every other task all successes (or all failures)
                weight = MAX_PRIOR_WEIGHT
            weight = min(max(weight, MIN_PRIOR_WEIGHT), MAX_PRIOR_WEIGHT)
            out[task][m] = Prior(mean, weight, total, len(others))
    return dict(out)


@dataclass
class TaskEvidence:
    task: str
    patterns: list[Pattern]
    models: dict[str, ModelObs]
    evals: dict[str, tuple[float, int]] = field(default_factory=dict)  # model -> (score, n)
    priors: dict[str, Prior] = field(default_factory=dict)  # model -> from the other tasks

    @property
    def requests(self) -> int:
        return sum(p.n for p in self.patterns)

    def named(self, names: Mapping[str, str]) -> TaskEvidence:
        """The same evidence with logged models renamed (``names``: logged -> provider name);
        consecutive stages that become the same name merge into one stage."""
        models: dict[str, ModelObs] = {}
        for logged, obs in self.models.items():
            name = names.get(logged, logged)
            if name in models:
                models[name].merge(obs)
            else:
                models[name] = replace(
                    obs,
                    model=name,
                    providers=set(obs.providers),
                    logged=set(obs.logged),
                    cost=dict(obs.cost),
                    cost_sq=dict(obs.cost_sq),
                    latency={k: list(v) for k, v in obs.latency.items()},
                )
        merged: dict[tuple[tuple[Stage, ...], bool], Pattern] = {}
        for p in self.patterns:
            stages: list[Stage] = []
            costs: list[float] = []
            unpriced: list[int] = []
            for s, c, u in zip(p.stages, p.stage_spend(), p.stage_unpriced_attempts(), strict=True):
                name = names.get(s.model, s.model)
                if stages and stages[-1].model == name:
                    stages[-1] = Stage(name, s.ok, stages[-1].attempts + s.attempts)
                    costs[-1] += c
                    unpriced[-1] += u
                else:
                    stages.append(Stage(name, s.ok, s.attempts))
                    costs.append(c)
                    unpriced.append(u)
            key = (tuple(stages), p.unrescuable)
            renamed = Pattern(
                tuple(stages),
                p.n,
                p.priced_n,
                p.priced_cost,
                p.spend,
                p.cost_sq,
                tuple(costs),
                tuple(unpriced),
                p.unrescuable,
            )
            old = merged.get(key)
            merged[key] = renamed if old is None else old.merged(renamed)
        evals = {names.get(m, m): v for m, v in self.evals.items()}
        return TaskEvidence(self.task, list(merged.values()), models, evals)


def _stages(chain: list[str], succeeded: bool) -> tuple[Stage, ...]:
    out: list[Stage] = []
    for m in chain:
        if out and out[-1].model == m:
            out[-1] = Stage(m, False, out[-1].attempts + 1)
        else:
            out.append(Stage(m, False))
    out[-1] = Stage(out[-1].model, succeeded, out[-1].attempts)
    return tuple(out)


def _stage_of_attempt(chain: list[str]) -> list[int]:
    """The stage index of each attempt of ``chain`` (retries on one model share a stage)."""
    out: list[int] = []
    for i, m in enumerate(chain):
        out.append(0 if i == 0 else out[-1] + (m != chain[i - 1]))
    return out


def collect(con: duckdb.DuckDBPyConnection, since: date, until: date) -> dict[str, TaskEvidence]:
    """Every task's evidence in the window of local days ``since`` .. ``until``."""
    tasks: dict[str, TaskEvidence] = {}

    def task(name: str) -> TaskEvidence:
        return tasks.setdefault(name, TaskEvidence(name, [], {}))

    per_attempt: dict[tuple[Any, tuple[str, ...], bool, bool], dict[int, tuple[float, int]]] = {}
    for r in queries.stage_costs(con, since, until):
        key = (r["task"], tuple(r["chain"] or ()), bool(r["succeeded"]), bool(r["unrescuable"]))
        per_attempt.setdefault(key, {})[int(r["attempt_index"])] = (
            float(r["cost"]),
            int(r["unpriced_attempts"]),
        )
    for r in queries.patterns(con, since, until):
        if not r["chain"]:
            continue
        chain, ok = list(r["chain"]), bool(r["succeeded"])
        stages = _stages(chain, ok)
        costs, unpriced = [0.0] * len(stages), [0] * len(stages)
        gone = bool(r["unrescuable"])
        positions = per_attempt.get((r["task"], tuple(chain), ok, gone))
        if len(chain) == 1 or positions is None:  # one attempt: the request's cost is its stage's
            costs[-1], unpriced[-1] = float(r["cost"]), int(r["unpriced_attempts"])
        else:
            for i, j in enumerate(_stage_of_attempt(chain)):
                c, u = positions.get(i + 1, (0.0, 0))
                costs[j] += c
                unpriced[j] += u
        task(r["task"]).patterns.append(
            Pattern(
                stages,
                int(r["n"]),
                int(r["priced_n"]),
                float(r["priced_cost"]),
                float(r["cost"]),
                float(r["cost_sq"]),
                tuple(costs),
                tuple(unpriced),
                gone,
            )
        )
    for r in queries.attempt_stats(con, since, until):
        models = task(r["task"]).models
        obs = models.setdefault(r["model"], ModelObs(r["model"], logged={r["model"]}))
        ok = bool(r["ok"])
        if r["provider"]:
            obs.providers.add(r["provider"])
        obs.attempts += int(r["n"])
        obs.successes += int(r["n"]) if ok else 0
        s0, n0 = obs.cost.get(ok, (0.0, 0))
        obs.cost[ok] = (s0 + float(r["cost_sum"]), n0 + int(r["cost_n"]))
        obs.cost_sq[ok] = obs.cost_sq.get(ok, 0.0) + float(r.get("cost_sq") or 0.0)
        obs.validated += int(r["validated"])
        obs.passed += int(r["passed"])
        if r["scored"]:
            obs.quality_sum += float(r["quality_score"]) * int(r["scored"])
            obs.scored += int(r["scored"])
        if ok and r["p95_ms"] is not None:
            obs.p95_ms = max(obs.p95_ms or 0.0, float(r["p95_ms"]))
        if r["lat_q"]:
            grid = np.array([float(v) for v in r["lat_q"] if v is not None])
            obs.latency.setdefault(ok, []).append((int(r["n"]), grid))
    for ev in tasks.values():
        ev.patterns.sort(key=pattern_key)
    for r in queries.eval_scores(con):
        if r["task"] in tasks:
            tasks[r["task"]].evals[r["model"]] = (float(r["score"]), int(r["n"]))
    return tasks


# -- estimates ------------------------------------------------------------------------------------


def wilson_low(k: Vec, n: Vec) -> Vec:
    """Lower bound of the 95% Wilson score interval (0 where n = 0)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    p = k / safe
    centre = p + Z * Z / (2 * safe)
    spread = Z * np.sqrt(np.maximum(p * (1 - p) / safe + Z * Z / (4 * safe * safe), 0.0))
    return np.where(n > 0, np.clip((centre - spread) / (1 + Z * Z / safe), 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class Estimate:
    """P(the stage succeeds | it is reached) with its Wilson lower bound, and how it was got."""

    p: Vec
    low: Vec
    n: Vec  # requests the estimate rests on
    k: Vec
    source: str  # first | marginal | conditional | partial | assumed | none
    note: str  # one line, with numbers (from the first weight row)
    cost_p: Vec | None = None  # the p costs are estimated with (0 where assumed), else p
    prior: Prior | None = None  # source "pooled": the prior added to this task's n and k

    @property
    def p_for_cost(self) -> Vec:
        return self.p if self.cost_p is None else self.cost_p


class Counts:
    """Requests ``n`` and successes ``k`` per weight row, with their rate and Wilson bound."""

    __slots__ = ("k", "low", "n", "rate")

    def __init__(self, n: Vec, k: Vec) -> None:
        self.n, self.k = n, k
        self.rate = np.where(n > 0, k / np.where(n > 0, n, 1.0), 0.0)
        self.low = wilson_low(k, n)


class Index:
    """Which patterns hold which counts: built once per task, shared by every weight matrix."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns
        self.first: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
        self.every: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
        self.after: dict[tuple[str, ...], dict[int, tuple[int, int]]] = defaultdict(dict)
        # the requests that failed whatever the chain: no evidence on any stage
        self.unrescuable = [i for i, p in enumerate(patterns) if p.unrescuable]
        for i, p in enumerate(patterns):
            if p.unrescuable:
                continue
            s = p.stages
            self.first[s[0].model][i] = (1, int(s[0].ok))
            for j, st in enumerate(s):
                n, k = self.every[st.model].get(i, (0, 0))
                self.every[st.model][i] = (n + 1, k + int(st.ok))
                if j >= 1:  # every stage before j failed
                    keys: list[tuple[str, ...]] = [(s[j - 1].model, st.model)]
                    if j >= 2:
                        keys.append((s[j - 2].model, s[j - 1].model, st.model))
                    for key in keys:
                        n, k = self.after[key].get(i, (0, 0))
                        self.after[key][i] = (n + 1, k + int(st.ok))
        self.attempts_per_stage: dict[tuple[str, bool], dict[int, int]] = defaultdict(dict)
        for p in patterns:
            for st in () if p.unrescuable else p.stages:
                d = self.attempts_per_stage[(st.model, st.ok)]
                d[st.attempts] = d.get(st.attempts, 0) + p.n

    def counts(self) -> np.ndarray:
        return np.array([[p.n for p in self.patterns]], dtype=float)


class Stats:
    """Estimates from pattern weights ``w`` (shape (B, patterns))."""

    def __init__(
        self,
        index: Index,
        w: np.ndarray | None = None,
        *,
        min_samples: int = 30,
        min_pair_samples: int = 10,
        correlation: float = 0.5,
        priors: Mapping[str, Prior] | None = None,
    ) -> None:
        self.index = index
        self.priors = dict(priors or {})
        self.w = index.counts() if w is None else w
        self.min_samples = min_samples
        self.min_pair = min_pair_samples
        self.correlation = correlation
        self._cache: dict[Any, Counts] = {}
        self._estimates: dict[tuple[tuple[str, ...], str], Estimate] = {}
        self._zero = np.zeros(self.w.shape[0])

    def _sum(self, table: dict[Any, dict[int, tuple[int, int]]], key: Any) -> Counts:
        ck = (id(table), key)
        got = self._cache.get(ck)
        if got is None:
            cells = table.get(key)
            if not cells:
                got = Counts(self._zero, self._zero)
            else:
                idx = np.fromiter(cells, dtype=int)
                nk = np.array(list(cells.values()), dtype=float)
                sub = self.w[:, idx]
                got = Counts(sub @ nk[:, 0], sub @ nk[:, 1])
            self._cache[ck] = got
        return got

    def unrescuable(self) -> Vec:
        """Per weight row, the share of requests that failed whatever the chain."""
        idx = self.index.unrescuable
        total = self.w.sum(axis=1)
        if not idx:
            return self._zero
        return np.where(total > 0, self.w[:, idx].sum(axis=1) / np.maximum(total, 1e-300), 0.0)

    def marginal(self, m: str) -> Counts:
        return self._sum(self.index.every, m)

    def first(self, m: str) -> Estimate:
        one, every = self._sum(self.index.first, m), self.marginal(m)
        use = one.n >= self.min_samples
        prior = self.priors.get(m)
        if prior is not None and not use[0]:
            return self.pooled(m, one, prior)
        c = (
            one
            if use.all()
            else every
            if not use.any()
            else Counts(np.where(use, one.n, every.n), np.where(use, one.k, every.k))
        )
        first = bool(use[0])
        n0, k0 = int(c.n[0]), int(c.k[0])
        note = (
            f"{m} as primary: {k0:,}/{n0:,} succeeded"
            if first
            else f"{m} as primary: measured only in other positions, {k0:,}/{n0:,} succeeded"
        )
        source = "first" if first else ("marginal" if n0 > 0 else "none")
        return Estimate(c.rate, c.low, c.n, c.k, source, note)

    def pooled(self, m: str, one: Counts, prior: Prior) -> Estimate:
        """``m`` as the first model of a task where it has fewer than ``min_samples`` requests
        there: its outcomes here with the prior from its other tasks added, as ``weight``
        requests succeeding at the prior's rate (partial pooling)."""
        n, k = one.n + prior.weight, one.k + prior.weight * prior.mean
        pooled = Counts(n, k)
        note = (
            f"{m} as primary: {int(one.k[0]):,}/{int(one.n[0]):,} succeeded on this task, "
            f"pooled with {prior.requests:,} requests on {prior.tasks} other tasks "
            f"({prior.mean:.1%})"
        )
        return Estimate(pooled.rate, pooled.low, one.n, one.k, "pooled", note, prior=prior)

    def after(self, prefix: tuple[str, ...], m: str) -> Estimate:
        """P(m succeeds | every model of ``prefix`` failed on the same request, in order)."""
        after = " and ".join(prefix[-2:])
        if len(prefix) >= 2:
            a, b = prefix[-2], prefix[-1]
            full = self._sum(self.index.after, (a, b, m))
            pairs = [
                (b, self._sum(self.index.after, (b, m))),
                (a, self._sum(self.index.after, (a, m))),
            ]
        else:
            full = None
            pairs = [(prefix[-1], self._sum(self.index.after, (prefix[-1], m)))]
        every = self.marginal(m)
        cons = np.minimum(every.low, 1.0 - self.correlation)
        rows = self.w.shape[0]
        # thin evidence (0 < n < min_pair anywhere) may only lower the conservative estimate
        thin_p, thin_low = cons, cons
        for c in [full] + [c for _, c in pairs] if full is not None else [c for _, c in pairs]:
            thin = (c.n > 0) & (c.n < self.min_pair)
            if thin.any():
                thin_p = np.where(thin, np.minimum(thin_p, c.rate), thin_p)
                thin_low = np.where(thin, np.minimum(thin_low, c.low), thin_low)
        # enough evidence after the last (or the one before) failure: the lower of the two
        pair_p, pair_low = np.full(rows, np.inf), np.full(rows, np.inf)
        pair_n, pair_k, pair_from = self._zero, self._zero, ""
        for name, c in pairs:
            ok = c.n >= self.min_pair
            if ok.any():
                better = ok & (c.rate < pair_p)
                if better[0]:
                    pair_from = name
                pair_n, pair_k = np.where(better, c.n, pair_n), np.where(better, c.k, pair_k)
                pair_p = np.where(ok, np.minimum(pair_p, c.rate), pair_p)
                pair_low = np.where(ok, np.minimum(pair_low, c.low), pair_low)
        have_pair = np.isfinite(pair_p)
        p, low = np.where(have_pair, pair_p, thin_p), np.where(have_pair, pair_low, thin_low)
        n, k = pair_n, pair_k
        full_v = np.zeros(rows, dtype=bool) if full is None else full.n >= self.min_pair
        if full is not None and full_v.any():
            p, low = np.where(full_v, full.rate, p), np.where(full_v, full.low, low)
            n, k = np.where(full_v, full.n, n), np.where(full_v, full.k, k)
        n0, k0 = int(n[0]), int(k[0])
        if full_v[0]:
            source, note = (
                "conditional",
                (f"{m} after {after} failed: {k0:,}/{n0:,} succeeded on the same requests"),
            )
        elif have_pair[0]:
            source = "conditional" if full is None else "partial"
            note = f"{m} after {pair_from} failed: {k0:,}/{n0:,} succeeded on the same requests"
            if full is not None:
                note += f" (never observed after both {after} failed)"
        else:
            seen = int(sum(c.n[0] for _, c in pairs) + (0 if full is None else full.n[0]))
            source = "assumed"
            note = (
                f"{m} after {after} failed: {'only ' + str(seen) if seen else 'never'} "
                f"observed; assumed {float(p[0]):.0%} (conservative: the lower of its "
                f"Wilson lower bound {float(every.low[0]):.1%} and "
                f"1 - assumed failure correlation {self.correlation:g})"
            )
        # never seen after both failed: the other failure is assumed to say as much about the
        # request as the one seen (failures go together), so the rate after one failure is
        # discounted by how much that failure lowered it: p * min(1, p / P(m succeeds))
        partial = have_pair & ~full_v if full is not None else np.zeros(rows, dtype=bool)
        if partial.any():
            p = np.where(partial, p * discount(p, every.rate), p)
            low = np.where(partial, low * discount(low, every.rate), low)
        assumed = ~full_v & ~have_pair  # no (or too thin) evidence: credit no rescue for cost
        return Estimate(p, low, n, k, source, note, np.where(assumed, 0.0, p))

    def estimate(self, chain: tuple[str, ...], j: int) -> Estimate:
        """The estimate for stage ``j`` of ``chain``; it depends on at most the two models
        before it, so it is computed once per (those models, model)."""
        key = (chain[max(0, j - 2) : j], chain[j])
        est = self._estimates.get(key)
        if est is None:
            est = self.first(chain[0]) if j == 0 else self.after(chain[:j], chain[j])
            self._estimates[key] = est
        return est


def discount(p: Vec, marginal: Vec) -> Vec:
    """How much a failure before a stage lowered its success rate: ``min(1, p / marginal)``
    (1 where the marginal is 0 or the failure did not lower it)."""
    safe = np.where(marginal > 0, marginal, 1.0)
    return np.where(marginal > 0, np.minimum(1.0, p / safe), 1.0)


def stage_attempts(index: Index, m: str, ok: bool) -> tuple[np.ndarray, np.ndarray]:
    """(attempts per stage, share of stages) for ``m`` ending with outcome ``ok``."""
    d = index.attempts_per_stage.get((m, ok)) or index.attempts_per_stage.get((m, not ok)) or {1: 1}
    r = np.array(sorted(d), dtype=int)
    w = np.array([d[x] for x in r], dtype=float)
    return r, w / w.sum()


def mean_attempts(index: Index, m: str, ok: bool) -> float:
    r, w = stage_attempts(index, m, ok)
    return float((r * w).sum())


def latency_pool(
    grids: Iterable[tuple[int, Any]], rng: np.random.Generator, size: int = 2000
) -> np.ndarray:
    """A sample of ``size`` latencies from the mixture of quantile grids (weighted by their n)."""
    items = [(n, g) for n, g in grids if len(g)]
    if not items:
        return np.array([])
    weights = np.array([n for n, _ in items], dtype=float)
    which = rng.choice(len(items), size=size, p=weights / weights.sum())
    out = np.empty(size)
    for i, (_, g) in enumerate(items):
        mask = which == i
        out[mask] = g[rng.integers(0, len(g), size=int(mask.sum()))]
    return out
