"""The case generator behind benchmarks/tuner_quality.py keeps its promises (correlated failures,
the logged traffic as the tuner reads it), and on generated cases with known truth the tuner's
proposals meet their targets and its 95% bounds cover the true success."""

from __future__ import annotations

import pytest

from benchmarks import tuner_cases


def test_failures_go_together_as_the_case_says() -> None:
    case = tuner_cases.make(2)
    assert case.rho > 0.2
    true = tuner_cases.truth(case, n=100_000)
    t = case.tasks[0]
    a, b = case.models[0], case.models[1]
    alone_a, _ = true[t][(a,)]
    both, _ = true[t][(a, b)]
    rescued = (both - alone_a) / (1 - alone_a)  # P(b answers | a failed)
    assert alone_a == pytest.approx(case.theta[(a, t)], abs=0.01)
    assert rescued < case.theta[(b, t)] - 0.02  # lower than b alone: correlated


def test_the_logged_traffic_is_the_tuners_evidence() -> None:
    case = tuner_cases.make(4)
    logged = tuner_cases.log(case)
    found = tuner_cases.evidence(logged)
    for t in case.tasks:
        assert found[t].requests == case.volume[t] == len(logged.requests[t])
        current = sum(p.n for p in found[t].patterns if p.stages[0].model == case.current[t][0])
        assert current > case.volume[t] * (1 - case.explore) * 0.9  # most go the current way
        attempts = sum(len(path) for path in logged.requests[t])
        assert sum(o.attempts for o in found[t].models.values()) == attempts


@pytest.mark.parametrize("seed", [2, 4, 5])
def test_proposals_meet_their_targets_and_the_bounds_cover_the_truth(seed: int) -> None:
    scores = tuner_cases.score(tuner_cases.make(seed))
    changed = [x for x in scores if x.status == "changed"]
    assert changed  # the thick cases have cheaper chains to find
    for x in changed:
        assert x.true_success >= x.target - 0.005, x  # within half a point of the target
        assert x.true_cost < x.strong_cost, x
    bounds = [(b, t) for x in scores for b, _, t in x.candidates]
    covered = sum(b <= t for b, t in bounds) / len(bounds)
    assert covered >= 0.9
