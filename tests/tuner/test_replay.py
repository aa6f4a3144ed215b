"""Savings: the window's requests replayed under the current and proposed chains, with a seeded
bootstrap interval."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from app import queries
from app.tuner import replay
from app.tuner.evidence import ModelObs, Pattern, Stage, TaskEvidence
from app.tuner.proposal import propose
from app.tuner.recommend import Settings
from collectors import config
from collectors.warehouse import Warehouse

SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 28)


def _ev() -> TaskEvidence:
    """cheap fails 40% and strong rescues every failure; half the traffic goes to strong alone."""
    ev = TaskEvidence("t", [
        Pattern((Stage("cheap", True),), 60, 60, 60 * 0.001),
        Pattern((Stage("cheap", False), Stage("strong", True)), 40, 40, 40 * 0.021),
        Pattern((Stage("strong", True),), 100, 100, 100 * 0.02),
    ], {})  # fmt: skip
    ev.models = {"cheap": ModelObs("cheap", cost={True: (0.06, 60), False: (0.04, 40)}),
                 "strong": ModelObs("strong", cost={True: (2.8, 140)})}  # fmt: skip
    return ev


def test_the_current_spend_is_what_the_requests_cost() -> None:
    """The current chain is not modelled: every request costs what it cost, the ones that did
    not follow the chain (strong alone, here) included."""
    s, diffs = replay.savings(_ev(), ("cheap", "strong"), ("cheap", "strong"), Settings(10, 5), 50)
    assert s.current is not None and s.proposed == s.current
    assert s.current.spend_usd == pytest.approx(60 * 0.001 + 40 * 0.021 + 100 * 0.02, abs=1e-12)
    assert s.current.success_rate == 1.0
    assert (s.off_chain_requests, s.off_chain_spend_usd) == (100, pytest.approx(2.0))
    assert s.savings_usd == 0 and s.low_usd == 0 and s.high_usd == 0
    assert diffs.shape == (51,) and not diffs.any()


def test_savings_and_a_seeded_interval_around_them() -> None:
    ev = _ev()
    s, diffs = replay.savings(ev, ("strong",), ("cheap", "strong"), Settings(10, 5), 200)
    assert s.current is not None and s.proposed is not None
    assert s.current.spend_usd == pytest.approx(2.9)  # observed: 60 x $0.001 + 40 x $0.021 + $2
    # only the 100 requests on the current chain (strong alone) move: each now costs cheap's
    # $0.001 plus strong's $0.02 on the 40% cheap fails; the cheap-first ones keep their cost
    assert s.off_chain_requests == 100
    assert s.savings_usd == pytest.approx(100 * (0.02 - (0.001 + 0.4 * 0.02)))
    assert s.proposed.spend_usd == pytest.approx(s.current.spend_usd - s.savings_usd)
    assert s.proposed.success_rate == pytest.approx(1.0)
    assert s.imputed_usd == pytest.approx(100 * (0.001 + 0.4 * 0.02))
    assert s.model_error == pytest.approx(0.0)  # strong alone imputes to exactly what it cost
    assert s.low_usd is not None and s.high_usd is not None
    assert s.low_usd < s.savings_usd < s.high_usd
    again, diffs2 = replay.savings(ev, ("strong",), ("cheap", "strong"), Settings(10, 5), 200)
    assert again == s and np.array_equal(diffs, diffs2)  # seeded: the same interval every run
    total = replay.total([(s, diffs), (again, diffs2)])
    assert total["current_spend_usd"] == pytest.approx(2 * s.current.spend_usd)
    assert total["low_usd"] <= total["savings_usd"] <= total["high_usd"]


def test_the_interval_does_not_depend_on_the_order_the_patterns_came_in() -> None:
    """The warehouse returns groups in no set order: the seeded draws must not follow it."""
    ev = _ev()
    backwards = TaskEvidence(ev.task, ev.patterns[::-1], ev.models)
    s, diffs = replay.savings(ev, ("strong",), ("cheap", "strong"), Settings(10, 5), 100)
    again, diffs2 = replay.savings(
        backwards, ("strong",), ("cheap", "strong"), Settings(10, 5), 100
    )
    assert again == s and np.array_equal(diffs, diffs2)


def _gave_up() -> TaskEvidence:
    """a -> b: a succeeds 80%; of its failures half fall back to b (which rescues them all),
    half stop at once (a client error: the gateway does not fall back)."""
    ev = TaskEvidence("t", [
        Pattern((Stage("a", True),), 80, 80, 80 * 0.01, 80 * 0.01, 80 * 0.01**2),
        Pattern((Stage("a", False), Stage("b", True)), 10, 10, 10 * 0.05, 10 * 0.05,
                10 * 0.05**2, (0.0, 10 * 0.05)),
        Pattern((Stage("a", False),), 10, 10, 0.0, 0.0, 0.0),
    ], {})  # fmt: skip
    ev.models = {"a": ModelObs("a", cost={True: (0.8, 80), False: (0.0, 20)}),
                 "b": ModelObs("b", cost={True: (0.5, 10)}),
                 "c": ModelObs("c", cost={True: (0.3, 10)})}  # fmt: skip
    return ev


def test_a_request_that_stopped_early_stays_stopped_where_the_chain_agrees() -> None:
    ev = _gave_up()
    s, _ = replay.savings(ev, ("a", "b"), ("a", "c"), Settings(5, 5), 50)
    assert s.current is not None and s.proposed is not None
    assert s.current.spend_usd == pytest.approx(0.8 + 0.5)
    assert s.current.success_rate == pytest.approx(0.9)
    # only the 10 a -> b requests are replayed: c replaces b (never seen after a failed: assumed
    # to rescue at most half, and costed as rescuing nothing); the 10 that stopped stay stopped
    assert s.imputed_usd == pytest.approx(10 * 0.03)
    assert s.savings_usd == pytest.approx(10 * (0.05 - 0.03))
    assert s.proposed.success_rate < s.current.success_rate


def test_the_model_error_widens_the_interval() -> None:
    """Imputing a -> b from its first stage charges b to the requests that stopped early: the
    replay's model is wrong by that share, and the interval is widened by it."""
    ev = _gave_up()
    s, diffs = replay.savings(ev, ("a", "b"), ("c", "b"), Settings(5, 5), 200)
    imputed_current = 100 * (0.8 * 0.01 + 0.2 * 0.05)  # a always, b on each of a's failures
    assert s.model_error == pytest.approx(abs(1.3 - imputed_current) / imputed_current)
    assert s.model_error_usd == pytest.approx(s.model_error * s.imputed_usd)
    assert s.model_error_usd > 0
    assert s.low_usd is not None and s.high_usd is not None
    assert s.low_usd == pytest.approx(float(np.percentile(diffs[1:], 2.5)) - s.model_error_usd)
    assert s.high_usd == pytest.approx(float(np.percentile(diffs[1:], 97.5)) + s.model_error_usd)


def test_unpriced_attempts_are_not_summed_nor_counted_free_in_a_saving() -> None:
    """The current spend sums known costs only (as task_stats); an unpriced attempt the proposal
    replaces is valued at its model's mean attempt cost; a model with no price at all makes
    the saving unknown, and the total leaves the task out and names it."""
    ev = TaskEvidence("t", [
        Pattern((Stage("a", True),), 50, 40, 40 * 0.01, 40 * 0.01, 40 * 0.01**2, (40 * 0.01,),
                (10,)),
        Pattern((Stage("b", True),), 50, 50, 50 * 0.002, 50 * 0.002, 50 * 0.002**2),
    ], {})  # fmt: skip
    ev.models = {"a": ModelObs("a", cost={True: (0.4, 40)}),
                 "b": ModelObs("b", cost={True: (0.1, 50)})}  # fmt: skip
    s, _ = replay.savings(ev, ("a",), ("b",), Settings(10, 5), 50)
    assert s.current is not None and s.current.spend_usd == pytest.approx(0.4 + 0.1)
    assert s.savings_usd == pytest.approx(50 * 0.01 - 50 * 0.002)  # the 10 unpriced at $0.01
    ev.models["b"] = ModelObs("b", cost={True: (0.0, 0)})
    unknown, d = replay.savings(ev, ("a",), ("b",), Settings(10, 5), 50)
    assert unknown.savings_usd is None and unknown.note and "no price" in unknown.note
    assert unknown.current is not None and unknown.current.spend_usd == pytest.approx(0.5)
    total = replay.total([(unknown, d), (s, np.zeros(51))])
    assert total["unknown_tasks"] == ["t"]


def test_the_proposal_reports_savings_per_task_and_in_total(tuner_home: Path) -> None:
    cfg = config.load(tuner_home)
    p = propose(cfg, None, SINCE, UNTIL)
    by_task = {s.task: s for s in p.savings}
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        spent = {r["task"]: r["spend_usd"] for r in queries.task_stats(con, SINCE, UNTIL)}
    for s in p.savings:  # the replay of the current routing is what the requests cost
        assert s.current is not None
        assert abs(s.current.spend_usd - float(spent[s.task] or 0)) < 1e-6, s.task
    summ = by_task["summarize"]
    assert summ.current is not None and summ.proposed is not None
    # the 300 requests on strong-large alone move; the 300 that tried cheap-mini first (as the
    # proposal does) keep what they cost
    assert summ.off_chain_requests == 300
    assert summ.current.cost_per_successful_request_usd == pytest.approx(
        summ.current.spend_usd / 600
    )
    assert summ.proposed.spend_usd < summ.current.spend_usd
    assert summ.low_usd is not None and summ.low_usd > 0  # the saving is clear of zero
    rare = by_task["rare"]
    assert rare.savings_usd == 0
    j = p.as_json()["savings"]
    assert set(j) >= {"current_spend_usd", "proposed_spend_usd", "low_usd", "high_usd"}
    assert j["current_spend_usd"] == pytest.approx(
        sum(s.current.spend_usd for s in p.savings if s.current)
    )
    assert j["low_usd"] <= j["current_spend_usd"] - j["proposed_spend_usd"] <= j["high_usd"]
