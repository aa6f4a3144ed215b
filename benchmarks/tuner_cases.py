"""Cases with known joint outcomes for the tuner: generated gateway traffic whose every chain's
true success and cost are known, so a proposal can be scored against the truth.

A case is a few models (cheap to expensive) and a few tasks. Each request has a latent
difficulty shared by every model it meets (a Gaussian copula with correlation ``rho``): the
models' failures on one request go together, as real ones do. Model ``m`` answers a request of
task ``t`` when ``Phi(sqrt(rho) z + sqrt(1 - rho) e_m) < theta[m, t]``, so its success rate on the
task is ``theta[m, t]`` and its success after other models failed is lower. Cheap models are good
on some tasks only (their ``theta`` drawn high or low per task); task volumes are skewed
(Zipf); evidence is thin (a few hundred requests) or thick (tens of thousands).

The logged traffic is what a gateway with a current chain per task and some exploration would
log: ``explore`` of each task's requests go down a random other chain. From it
:func:`evidence` builds the tuner's :class:`TaskEvidence` (patterns of stages, costs per
attempt) exactly as the warehouse would hand it over. :func:`truth` gives each chain's true
success and cost per request by simulating the generative model on many fresh requests (the
same draws for every chain), and :func:`score` runs the tuner on a case and compares.

Used by ``benchmarks/tuner_quality.py`` (many seeds, prints its figures) and by
``tests/tuner/test_cases.py`` (a few seeds, pinned).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from app.tuner.evidence import ModelObs, Pattern, Stage, TaskEvidence, priors
from app.tuner.manifest import Provider, Task
from app.tuner.recommend import MAX_CHAIN, Settings, recommend

_PHI = np.vectorize(NormalDist().cdf)


@dataclass(frozen=True)
class Case:
    seed: int
    models: tuple[str, ...]  # cheapest first
    cost: dict[str, float]  # per attempt
    tasks: tuple[str, ...]
    theta: dict[tuple[str, str], float]  # (model, task) -> success rate
    rho: float  # failure correlation between models on one request
    volume: dict[str, int]  # logged requests per task
    current: dict[str, tuple[str, ...]]  # the chain each task is routed through today
    target: dict[str, float]  # each task's success target
    explore: float  # share of a task's requests sent down a random other chain

    def chains(self) -> list[tuple[str, ...]]:
        return [c for k in range(1, MAX_CHAIN + 1) for c in itertools.permutations(self.models, k)]


@dataclass
class Logged:
    case: Case
    requests: dict[str, list[list[tuple[str, bool]]]] = field(default_factory=dict)


def make(seed: int, *, requests: int | None = None) -> Case:
    """A case drawn from ``seed``: 3 to 5 models, 2 to 4 tasks, correlation 0 to 0.8, total
    logged requests thin (300) to thick (30,000) unless ``requests`` is given."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 6))
    models = tuple(f"m{i}" for i in range(k))
    cost = {m: float(0.0002 * (3.2**i) * rng.uniform(0.8, 1.25)) for i, m in enumerate(models)}
    tasks = tuple(f"t{j}" for j in range(int(rng.integers(2, 5))))
    theta: dict[tuple[str, str], float] = {}
    for i, m in enumerate(models):
        strong = i == k - 1
        for t in tasks:
            if strong:
                theta[(m, t)] = float(rng.uniform(0.90, 0.98))
            elif rng.random() < 0.5:  # good on this task
                theta[(m, t)] = float(rng.uniform(0.80, 0.96))
            else:  # bad on it
                theta[(m, t)] = float(rng.uniform(0.30, 0.70))
    total = requests if requests is not None else int(rng.choice([300, 3000, 30000]))
    shares = 1.0 / np.arange(1, len(tasks) + 1) ** 1.2
    shares = shares / shares.sum()
    volume = {t: max(20, int(total * s)) for t, s in zip(tasks, shares, strict=True)}
    current = {t: (models[-1],) for t in tasks}  # today: the strong model alone
    target = {t: round(theta[(models[-1], t)] - 0.01, 4) for t in tasks}  # within a point of it
    return Case(
        seed,
        models,
        cost,
        tasks,
        theta,
        rho=float(rng.uniform(0.0, 0.8)),
        volume=volume,
        current=current,
        target=target,
        explore=0.4,
    )


def _outcomes(case: Case, task: str, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Whether each model would answer each of ``n`` fresh requests of ``task``: one shared
    latent draw per request, one own draw per model (the copula)."""
    z = rng.standard_normal(n)
    out = {}
    for m in case.models:
        e = rng.standard_normal(n)
        u = _PHI(math.sqrt(case.rho) * z + math.sqrt(1 - case.rho) * e)
        out[m] = u < case.theta[(m, task)]
    return out


def log(case: Case) -> Logged:
    """The traffic a gateway logged: each request down its task's current chain, or (a share
    ``explore``) down a random other chain, every stage tried once."""
    rng = np.random.default_rng(case.seed + 1)
    chains = case.chains()
    logged = Logged(case)
    for t in case.tasks:
        n = case.volume[t]
        ok = _outcomes(case, t, n, rng)
        rows = []
        for i in range(n):
            chain = (
                chains[int(rng.integers(len(chains)))]
                if rng.random() < case.explore
                else case.current[t]
            )
            path = []
            for m in chain:
                path.append((m, bool(ok[m][i])))
                if ok[m][i]:
                    break
            rows.append(path)
        logged.requests[t] = rows
    return logged


def evidence(logged: Logged) -> dict[str, TaskEvidence]:
    """The tuner's evidence per task, as :func:`app.tuner.evidence.collect` builds it from the
    warehouse: one pattern per distinct path, each model's attempt costs by outcome."""
    case = logged.case
    out = {}
    for t, rows in logged.requests.items():
        counts: dict[tuple[tuple[str, bool], ...], int] = {}
        for path in rows:
            counts[tuple(path)] = counts.get(tuple(path), 0) + 1
        pats = []
        models: dict[str, ModelObs] = {}
        for path, n in sorted(counts.items()):
            spend = sum(case.cost[m] for m, _ in path) * n
            pats.append(Pattern(tuple(Stage(m, ok) for m, ok in path), n, n, spend, spend))
            for m, ok in path:
                obs = models.setdefault(m, ModelObs(m, providers={"p"}))
                obs.attempts += n
                obs.successes += n * ok
                s, c = obs.cost.get(ok, (0.0, 0))
                obs.cost[ok] = (s + case.cost[m] * n, c + n)
        out[t] = TaskEvidence(t, pats, models)
    return out


def truth(case: Case, n: int = 200_000) -> dict[str, dict[tuple[str, ...], tuple[float, float]]]:
    """Per task, per chain: (true success, true cost per request), on ``n`` fresh requests
    (the same requests for every chain)."""
    rng = np.random.default_rng(case.seed + 2)
    out: dict[str, dict[tuple[str, ...], tuple[float, float]]] = {}
    for t in case.tasks:
        ok = _outcomes(case, t, n, rng)
        per: dict[tuple[str, ...], tuple[float, float]] = {}
        for chain in case.chains():
            alive = np.ones(n, dtype=bool)
            spent = np.zeros(n)
            for m in chain:
                spent += alive * case.cost[m]
                alive &= ~ok[m]
            per[chain] = (1.0 - float(alive.mean()), float(spent.mean()))
        out[t] = per
    return out


@dataclass
class TaskScore:
    seed: int
    task: str
    requests: int
    status: str
    proposed: tuple[str, ...]
    true_success: float  # of the proposed chain
    true_cost: float  # per successful request, proposed chain
    strong_success: float
    strong_cost: float
    best: tuple[str, ...]  # the cheapest chain per success whose true success meets the target
    best_cost: float
    target: float
    predicted: float  # the tuner's point estimate of the proposed chain's success
    bound: float  # its lower bound at the configured confidence
    candidates: list[tuple[float, float, float]]  # (bound, estimate, truth) of every chain

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("candidates")
        d["proposed"], d["best"] = " → ".join(self.proposed), " → ".join(self.best)
        return d


def score(case: Case, settings: Settings | None = None, *, pool: bool = True) -> list[TaskScore]:
    """Run the tuner on the case's logged traffic and score each task's proposal against the
    truth."""
    s = settings or Settings()
    found = evidence(log(case))
    true = truth(case)
    providers = {m: Provider(m, m, None, (), None, None) for m in case.models}
    pooled = priors(found, s.min_samples) if pool else {}
    out = []
    strong = (case.models[-1],)
    for t in case.tasks:
        ev = found[t]
        ev.priors = {k: v for k, v in pooled.get(t, {}).items() if k in ev.models}
        task = Task(t, case.current[t], case.target[t], None, None, (), None)
        r = recommend(ev, task, providers, s)
        chosen = r.proposed or r.current
        ok_chains = [(c, v) for c, v in true[t].items() if v[0] >= case.target[t]]
        best, (_, best_cpr) = min(ok_chains, key=lambda cv: cv[1][1] / cv[1][0])
        succ, cpr = true[t][r.proposed_chain]
        cands = [(c.success_low, c.success, true[t][c.chain][0]) for c in r.candidates]
        out.append(
            TaskScore(
                case.seed,
                t,
                case.volume[t],
                r.status,
                r.proposed_chain,
                succ,
                cpr / succ if succ else math.inf,
                true[t][strong][0],
                true[t][strong][1] / true[t][strong][0],
                best,
                best_cpr / true[t][best][0],
                case.target[t],
                chosen.success if chosen else math.nan,
                chosen.success_low if chosen else math.nan,
                cands,
            )
        )
    return out
