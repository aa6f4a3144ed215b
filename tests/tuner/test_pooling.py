"""Partial pooling: a model with few requests on a task borrows from its requests on the other
tasks, as much as its success rate holds from task to task, with the evidence stated."""

from __future__ import annotations

import numpy as np
import pytest

from app.tuner.evidence import ModelObs, Pattern, Stage, TaskEvidence, priors
from app.tuner.manifest import Provider, Task
from app.tuner.recommend import Settings, recommend, stage_reason

PROVIDERS = {n: Provider(n, n, None, (), None, None) for n in ("cheap", "strong")}


def evidence(task: str, model: str, n: int, ok: int, cost: float) -> TaskEvidence:
    pats = [Pattern((Stage(model, True),), ok), Pattern((Stage(model, False),), n - ok)]
    ev = TaskEvidence(task, [p for p in pats if p.n], {})
    ev.models = {
        model: ModelObs(
            model, attempts=n, successes=ok, cost={True: (cost * ok, ok), False: (0.0, n - ok)}
        )
    }
    return ev


def merged(*parts: TaskEvidence) -> TaskEvidence:
    ev = TaskEvidence(parts[0].task, [p for e in parts for p in e.patterns], {})
    ev.models = {m: o for e in parts for m, o in e.models.items()}
    return ev


def test_a_steady_model_lends_its_other_tasks_to_a_small_one() -> None:
    # cheap succeeds 97-98% on two big tasks; on the small task it ran 12 times, all fine
    found = {
        "a": evidence("a", "cheap", 600, 585, 0.001),
        "b": evidence("b", "cheap", 400, 391, 0.001),
        "small": merged(
            evidence("small", "cheap", 12, 12, 0.001), evidence("small", "strong", 40, 40, 0.02)
        ),
    }
    pooled = priors(found, min_requests=30)
    prior = pooled["small"]["cheap"]
    assert (prior.requests, prior.tasks) == (1000, 2)
    assert prior.mean == pytest.approx(976 / 1000)
    assert prior.weight == 20.0  # steady between tasks: the most a prior may count
    assert "strong" not in pooled["small"]  # seen on no other task
    ev = found["small"]
    ev.priors = pooled["small"]
    task = Task("small", ("strong",), 0.90, None, None, (), None)
    r = recommend(ev, task, PROVIDERS, Settings())
    assert r.status == "changed" and r.proposed_chain[0] == "cheap"
    first = r.proposed.stages[0] if r.proposed else None
    assert first is not None and first.source == "pooled"
    assert float(first.p[0]) == pytest.approx((12 + 20 * 0.976) / (12 + 20))
    text = stage_reason(r.proposed_chain, 0, first, Settings())
    assert "succeeded on 12 of 12 requests of this task" in text
    assert "pooled with its 1,000 requests on 2 other tasks (97.6% succeeded there" in text
    # without the other tasks it could not be judged at all
    ev.priors = {}
    alone = recommend(ev, task, PROVIDERS, Settings())
    assert alone.proposed_chain == ("strong",)
    assert any("cheap not considered: only 12 attempts" in x for x in alone.reasons)


def test_a_model_good_on_some_tasks_only_lends_little() -> None:
    found = {
        "a": evidence("a", "cheap", 500, 495, 0.001),  # 99%
        "b": evidence("b", "cheap", 500, 200, 0.001),  # 40%
        "small": evidence("small", "cheap", 10, 5, 0.001),
    }
    prior = priors(found, min_requests=30)["small"]["cheap"]
    assert prior.weight == 2.0  # the rate moves from task to task: the least weight
    assert prior.mean == pytest.approx(0.695)


def test_priors_are_leave_one_out_and_need_enough_other_requests() -> None:
    found = {
        "a": evidence("a", "cheap", 25, 20, 0.001),
        "b": evidence("b", "cheap", 4, 4, 0.001),
    }
    got = priors(found, min_requests=30)
    assert got == {}  # neither task has 30 requests of cheap elsewhere
    found["c"] = evidence("c", "cheap", 40, 30, 0.001)
    got = priors(found, min_requests=30)
    # a: b and c lend (44 requests); c: a and b have 29, too few; never a task's own requests
    assert got["a"]["cheap"].requests == 44 and got["a"]["cheap"].tasks == 2
    assert np.isclose(got["a"]["cheap"].mean, 34 / 44)
    assert got["b"]["cheap"].requests == 65
    assert "c" not in got
