"""Savings: the window's requests replayed under the current and proposed chains, with a seeded
bootstrap interval."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from app.tuner import replay
from app.tuner.evidence import ModelObs, Pattern, Stage, TaskEvidence
from app.tuner.proposal import propose
from app.tuner.recommend import Settings
from collectors import config

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


def test_the_chain_the_traffic_took_replays_to_what_it_cost() -> None:
    s, diffs = replay.savings(_ev(), ("cheap", "strong"), ("cheap", "strong"), Settings(10, 5), 50)
    assert s.current is not None
    # the cheap-first half exactly as logged; the strong-only half imputed down the chain
    logged = 60 * 0.001 + 40 * 0.021
    imputed = 100 * (0.001 + 0.4 * 0.02)
    assert s.current.spend_usd == pytest.approx(logged + imputed)
    assert s.savings_usd == 0 and s.low_usd == 0 and s.high_usd == 0
    assert diffs.shape == (51,)


def test_savings_and_a_seeded_interval_around_them() -> None:
    ev = _ev()
    s, diffs = replay.savings(ev, ("strong",), ("cheap", "strong"), Settings(10, 5), 200)
    assert s.current is not None and s.proposed is not None
    assert s.current.spend_usd == pytest.approx(200 * 0.02)  # strong always, at its logged cost
    assert s.proposed.success_rate == pytest.approx(1.0)
    assert s.savings_usd == pytest.approx(s.current.spend_usd - s.proposed.spend_usd)
    assert s.low_usd is not None and s.high_usd is not None
    assert s.low_usd < s.savings_usd < s.high_usd
    again, diffs2 = replay.savings(ev, ("strong",), ("cheap", "strong"), Settings(10, 5), 200)
    assert again == s and np.array_equal(diffs, diffs2)  # seeded: the same interval every run
    total = replay.total([(s, diffs), (again, diffs2)])
    assert total["current_spend_usd"] == pytest.approx(2 * s.current.spend_usd)
    assert total["low_usd"] <= total["savings_usd"] <= total["high_usd"]


def test_the_proposal_reports_savings_per_task_and_in_total(tuner_home: Path) -> None:
    p = propose(config.load(tuner_home), None, SINCE, UNTIL)
    by_task = {s.task: s for s in p.savings}
    summ = by_task["summarize"]
    assert summ.current is not None and summ.proposed is not None
    assert summ.current.spend_usd == pytest.approx(600 * 0.02)
    assert summ.current.cost_per_successful_request_usd == pytest.approx(0.02)
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
