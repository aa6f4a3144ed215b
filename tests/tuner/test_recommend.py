"""The recommendation on constructed logs whose right answers are known (tests/tuner/logs.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from app.tuner import manifest as manifest_mod
from app.tuner.evidence import Index, Pattern, Stage, Stats, TaskEvidence
from app.tuner.proposal import Proposal, propose
from app.tuner.recommend import Evaluator, Settings, TaskResult
from collectors import config

SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 28)


@pytest.fixture(scope="module")
def proposal(tuner_home: Path) -> Proposal:
    return propose(config.load(tuner_home), None, SINCE, UNTIL)


def task(p: Proposal, name: str) -> TaskResult:
    return next(t for t in p.tasks if t.task == name)


def test_a_cheap_model_rescued_by_a_fallback_beats_the_strong_model_alone(
    proposal: Proposal,
) -> None:
    t = task(proposal, "summarize")
    assert t.status == "changed"
    assert t.proposed_chain == ("cheap-mini", "strong-large")
    assert t.proposed is not None and t.current is not None
    # 0.001 + 0.4 * 0.02 per request, every request succeeds: about $0.009 per success
    assert t.proposed.cost_per_success == pytest.approx(0.009, rel=0.1)
    assert t.current.cost_per_success == pytest.approx(0.02)
    assert t.proposed.success_low >= 0.98  # the task's target, on the lower bound
    # the fallback's rescue rate is read from the requests where cheap-mini failed
    assert any("strong-large after cheap-mini failed on the same request: succeeded on " in r
               for r in t.reasons)  # fmt: skip
    assert "$0.0087" in t.reasons[0] and "meeting the 98% success target" in t.reasons[0]


def test_a_model_whose_p95_breaks_the_latency_target_is_excluded(proposal: Proposal) -> None:
    t = task(proposal, "chat")
    assert t.proposed_chain == ("fast-model",)
    assert "slow-cheap" not in {m for c in t.candidates for m in c.chain}
    why = [r for r in t.reasons if r.startswith("slow-cheap excluded: too slow")]
    assert why and "(P95)" in why[0] and "5,000 ms latency target" in why[0]
    assert [x.constraint for x in t.exclusions if x.model == "slow-cheap"] == ["latency_target_ms"]
    assert t.proposed is not None and t.proposed.p95_ms is not None and t.proposed.p95_ms <= 5000


def test_a_sensitive_task_only_uses_its_allowed_providers(proposal: Proposal) -> None:
    t = task(proposal, "legal")
    used = {m for c in t.candidates for m in c.chain}
    assert used == {"strong-large", "mid-model"}
    assert t.proposed_chain == ("mid-model",)  # the cheaper of the two allowed
    assert any(r.startswith("cheap-mini excluded: its provider is not one the task allows")
               for r in t.reasons)  # fmt: skip


def test_too_little_data_is_insufficient_data_and_keeps_the_chain(proposal: Proposal) -> None:
    t = task(proposal, "rare")
    assert t.status == "insufficient_data"
    assert t.proposed_chain == t.current_chain == ("cheap-mini",)
    assert "only 10 requests" in t.reasons[0] and "the 30 the tuner needs" in t.reasons[0]


def test_correlated_failures_are_not_treated_as_independent(proposal: Proposal) -> None:
    t = task(proposal, "extract")
    ab = next(c for c in t.candidates if c.chain == ("model-a", "model-b"))
    a = next(c for c in t.candidates if c.chain == ("model-a",))
    # model-b never rescued model-a: the chain is no better than model-a alone, and costs more
    assert ab.success == pytest.approx(a.success)
    assert ab.cost_per_success > a.cost_per_success
    # what an independence assumption would have said, from the same logs
    p_a, p_b = a.success, 0.9
    assert 1 - (1 - p_a) * (1 - p_b) > 0.95 > ab.success_low
    assert t.proposed_chain not in (("model-a", "model-b"), ("model-a",))
    assert t.proposed_chain == ("model-b", "model-c")
    assert t.proposed is not None and t.proposed.success_low >= 0.95


def test_a_fallback_never_seen_after_a_failure_is_assumed_conservatively() -> None:
    # model-x fails 30% of 200 requests and nothing ever ran after it; model-y alone succeeds 99%
    ev = TaskEvidence("t", [
        Pattern((Stage("x", True),), 140), Pattern((Stage("x", False),), 60),
        Pattern((Stage("y", True),), 198), Pattern((Stage("y", False),), 2),
    ], {})  # fmt: skip
    stats = Stats(Index(ev.patterns), min_samples=30, min_pair_samples=10, correlation=0.5)
    est = stats.after(("x",), "y")
    assert est.source == "assumed"
    assert float(est.p[0]) == pytest.approx(0.5)  # capped at 1 - correlation, not 99%
    assert float(est.p_for_cost[0]) == 0.0  # and credited with no rescue when costing
    assert "never observed" in est.note and "conservative" in est.note


def test_three_stage_chains_use_the_requests_where_both_earlier_models_failed() -> None:
    ev = TaskEvidence("t", [
        Pattern((Stage("a", False), Stage("b", False), Stage("c", True)), 40),
        Pattern((Stage("a", False), Stage("b", False), Stage("c", False)), 10),
        Pattern((Stage("b", False), Stage("c", True)), 50),
    ], {})  # fmt: skip
    stats = Stats(Index(ev.patterns), min_samples=30, min_pair_samples=10)
    est = stats.after(("a", "b"), "c")
    assert est.source == "conditional"
    assert (int(est.k[0]), int(est.n[0])) == (40, 50)
    assert stats.after(("b",), "c").n[0] == 100


def test_retries_on_the_same_model_are_one_stage() -> None:
    from app.tuner.evidence import _stages

    assert _stages(["a", "a", "b"], True) == (Stage("a", False, 2), Stage("b", True, 1))
    assert _stages(["a"], False) == (Stage("a", False, 1),)


def test_an_unreachable_target_is_infeasible_naming_the_binding_constraint(
    tuner_home: Path, tmp_path: Path
) -> None:
    text = (tuner_home / "manifest.yaml").read_text(encoding="utf-8")
    text = text.replace("    success_target: 0.98\n", "    success_target: 0.9999\n", 1)
    path = tmp_path / "strict.yaml"
    path.write_text(text, encoding="utf-8")
    p = propose(config.load(tuner_home), path, SINCE, UNTIL)
    t = task(p, "summarize")
    assert t.status == "infeasible" and t.binding == "success_target"
    assert t.proposed_chain == t.current_chain
    assert t.reasons[0].startswith("infeasible: no chain can be shown to meet the 99.99% success")
    assert "summarize" not in p.changes.chains


def test_evaluator_reproduces_the_chain_arithmetic() -> None:
    ev = TaskEvidence("t", [
        Pattern((Stage("a", True),), 80), Pattern((Stage("a", False), Stage("b", True)), 20),
    ], {})  # fmt: skip
    from app.tuner.evidence import ModelObs

    ev.models = {"a": ModelObs("a", cost={True: (0.08, 80), False: (0.02, 20)}),
                 "b": ModelObs("b", cost={True: (0.2, 20)})}  # fmt: skip
    e = Evaluator(ev, Settings(min_samples=10, min_pair_samples=5)).evaluate(("a", "b"))
    assert e.success == pytest.approx(1.0)
    assert e.cost == pytest.approx(0.001 + 0.2 * 0.01)  # a always, b on a's 20% failures
    assert e.success_low < 1.0


def test_a_request_no_chain_can_rescue_fails_on_every_chain_and_tells_nothing_of_a() -> None:
    """3 of 100 requests failed with the client's own refused request (bad_request, never
    retried nor fallen back): a's success as primary is read from the other 97, and every chain
    keeps those 3 failures, at what they cost."""
    from app.tuner.evidence import ModelObs

    ev = TaskEvidence("t", [
        Pattern((Stage("a", True),), 77, cost=0.077),
        Pattern((Stage("a", False), Stage("b", True)), 20, cost=0.22),
        Pattern((Stage("a", False),), 3, cost=0.0, unrescuable=True),
    ], {})  # fmt: skip
    ev.models = {"a": ModelObs("a", cost={True: (0.077, 77), False: (0.02, 23)}),
                 "b": ModelObs("b", cost={True: (0.2, 20)})}  # fmt: skip
    ev_ = Evaluator(ev, Settings(min_samples=10, min_pair_samples=5))
    first = ev_.stats.first("a")
    assert (int(first.n[0]), int(first.k[0])) == (97, 77)
    both = ev_.evaluate(("a", "b"))
    assert both.success == pytest.approx(0.97)  # what the logs show: 97 of 100 succeeded
    alone = ev_.evaluate(("a",))
    assert alone.success == pytest.approx(0.97 * 77 / 97)
    assert both.success_low <= 0.97 and ev_.success_draws(("a", "b"), both.stages).max() <= 0.97
    # before, the 3 counted as a's failures that b would have rescued: 100% for a → b
    ev.patterns[2] = Pattern((Stage("a", False),), 3, cost=0.0)
    assert Evaluator(ev, Settings(min_samples=10, min_pair_samples=5)).evaluate(
        ("a", "b")
    ).success == pytest.approx(1.0)


def test_every_change_has_a_reason_with_numbers(proposal: Proposal) -> None:
    for t in proposal.tasks:
        assert t.reasons, t.task
        assert any(ch.isdigit() for ch in t.reasons[0]), t.reasons[0]
    assert manifest_mod.loads(proposal.text).tasks["summarize"].chain == (
        "cheap-mini",
        "strong-large",
    )


def test_a_compliant_chain_is_not_churned_for_a_negligible_saving() -> None:
    from app.tuner.evidence import ModelObs
    from app.tuner.manifest import Provider, Task
    from app.tuner.recommend import recommend

    # a fails 3%, b always rescues it, c (the last fallback) was never reached
    ev = TaskEvidence("t", [
        Pattern((Stage("a", True),), 970, 970, 970 * 0.01),
        Pattern((Stage("a", False), Stage("b", True)), 30, 30, 30 * 0.03),
    ], {})  # fmt: skip
    ev.models = {
        "a": ModelObs("a", attempts=1000, successes=970, cost={True: (9.7, 970), False: (0.3, 30)},
                      p95_ms=900.0, latency={True: [(970, np.full(99, 800.0))],
                                             False: [(30, np.full(99, 500.0))]}),
        "b": ModelObs("b", attempts=30, successes=30, cost={True: (0.6, 30)}, p95_ms=1500.0,
                      latency={True: [(30, np.full(99, 1400.0))]}),
    }  # fmt: skip
    providers = {n: Provider(n, n, None, (), None, None) for n in "abc"}
    task = Task("t", ("a", "b", "c"), 0.97, 10_000, None, (), None)  # a alone: low 95.7%
    r = recommend(ev, task, providers, Settings(min_samples=30, min_pair_samples=10))
    assert r.status == "unchanged" and r.proposed_chain == ("a", "b", "c")
    assert r.reasons[0].startswith("kept a → b → c: it meets every target")
    assert "a → b" in r.reasons[0]
    # with a latency target b breaks, the chain is no longer "compliant": the tuner says so
    strict = Task("t", ("a", "b", "c"), 0.97, 1_000, None, (), None)
    r = recommend(ev, strict, providers, Settings(min_samples=30, min_pair_samples=10))
    assert r.status == "infeasible" and r.binding == "success_target"
    assert "the current chain uses b, which breaks the latency target (latency_target_ms)" in (
        r.reasons
    )


def test_a_chain_that_costs_nothing_is_kept_without_dividing_by_zero() -> None:
    """Cost-only logs priced at $0 (free models, the gateway's cache) used to crash the tuner
    with ZeroDivisionError: there is nothing to save, and it says so."""
    from app.tuner.evidence import ModelObs
    from app.tuner.manifest import Provider, Task
    from app.tuner.recommend import recommend

    ev = TaskEvidence("t", [Pattern((Stage("a", True),), 500, 500, 0.0)], {})
    ev.models = {"a": ModelObs("a", attempts=500, successes=500, cost={True: (0.0, 500)})}
    providers = {n: Provider(n, n, None, (), None, None) for n in "ab"}
    r = recommend(ev, Task("t", ("a",), 0.9, None, None, (), None), providers, Settings())
    assert r.status == "unchanged" and r.proposed_chain == ("a",)
    assert r.current is not None and r.current.cost_per_success == 0.0


def three_stage_evidence(n_first: int, fail_b: int, fail_c: int, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """Requests on a -> b -> c with true rescue rates 0.5, 0.5, 0.5 (success 0.875): ``n_first``
    requests, their outcomes drawn; returns the evidence and the true chain success."""
    from app.tuner.evidence import ModelObs

    counts: dict[tuple[bool, ...], int] = {}
    for _ in range(n_first):
        path: list[bool] = []
        for _stage in range(3):
            ok = bool(rng.random() < 0.5)
            path.append(ok)
            if ok:
                break
        counts[tuple(path)] = counts.get(tuple(path), 0) + 1
    pats = [
        Pattern(tuple(Stage(m, ok) for m, ok in zip("abc", path, strict=False)), n)
        for path, n in sorted(counts.items())
    ]
    ev = TaskEvidence("t", pats, {})
    ev.models = {m: ModelObs(m, cost={True: (1.0, 1), False: (1.0, 1)}) for m in "abc"}
    return ev, 1 - 0.5**3


def test_a_chains_bound_draws_its_stages_together_not_each_at_its_worst() -> None:
    """The issue's case: each conditional stage on 14-25 requests. Each stage at its own Wilson
    lower bound at once is far more pessimistic than 95%; the stages' posteriors drawn
    together give the 5% quantile of the chain's success."""
    ev, truth = three_stage_evidence(80, 0, 0, np.random.default_rng(7))
    s = Settings(min_samples=10, min_pair_samples=5)
    e = Evaluator(ev, s).evaluate(("a", "b", "c"))
    compounded = 1 - np.prod([1 - float(st.low[0]) for st in e.stages])
    assert e.stages[2].source == "conditional" and 10 <= int(e.stages[2].n[0]) <= 25
    assert compounded < e.success_low < e.success
    assert e.success_low - compounded > 0.05
    # the same logs, the same figure: the draws are seeded by the task and the stage
    assert Evaluator(ev, s).evaluate(("a", "b", "c")).success_low == e.success_low
    assert truth > e.success_low


def test_the_chain_bound_covers_the_true_success_at_its_confidence() -> None:
    """Calibration: over 300 draws of thin evidence (80 requests, stages on ~40, ~20, ~10), the
    95% bound is under the true success about 95% of the time; the compounded bounds, nearly
    always (they waste the evidence)."""
    rng = np.random.default_rng(2026)
    s = Settings(min_samples=10, min_pair_samples=5)
    covered = compounded_covered = 0
    runs = 300
    for _ in range(runs):
        ev, truth = three_stage_evidence(80, 0, 0, rng)
        e = Evaluator(ev, s).evaluate(("a", "b", "c"))
        covered += e.success_low <= truth
        low = 1 - np.prod([1 - float(st.low[0]) for st in e.stages])
        compounded_covered += low <= truth
    assert 0.90 <= covered / runs <= 0.99
    assert compounded_covered / runs > 0.995


def test_a_stage_never_seen_after_both_failures_is_discounted_and_says_so() -> None:
    """c was seen after a failed and after b failed, never after both: its rate after one
    failure is lowered by as much as that failure lowered it (the other is assumed to say as
    much), not taken as if the failures were independent."""
    from app.tuner.evidence import ModelObs
    from app.tuner.recommend import stage_reason

    ev = TaskEvidence("t", [
        Pattern((Stage("a", True),), 60),
        Pattern((Stage("a", False), Stage("b", True)), 20),
        Pattern((Stage("a", False), Stage("c", True)), 16),
        Pattern((Stage("a", False), Stage("c", False)), 4),
        Pattern((Stage("b", False), Stage("c", True)), 9),
        Pattern((Stage("b", False), Stage("c", False)), 11),
        Pattern((Stage("c", True),), 90), Pattern((Stage("c", False),), 10),
    ], {})  # fmt: skip
    ev.models = {m: ModelObs(m, cost={True: (1.0, 1), False: (1.0, 1)}) for m in "abc"}
    s = Settings(min_samples=10, min_pair_samples=10)
    e = Evaluator(ev, s).evaluate(("a", "b", "c"))
    third = e.stages[2]
    assert third.source == "partial"
    # after b failed c rescued 9/20 (the lower pair); c's own rate is 115/140
    raw, marginal = 9 / 20, (16 + 9 + 90) / (20 + 20 + 100)
    assert float(third.p[0]) == pytest.approx(raw * raw / marginal)
    text = stage_reason(e.chain, 2, third, s)
    assert "never seen after both a and b failed, so counted as" in text
    assert "9 of 20" in text and f"{raw * raw / marginal:.1%}" in text


PLAIN = re.compile(r"\d+(\.\d+)?%")


def test_reasons_are_plain_words_with_percentages_and_counts(proposal: Proposal) -> None:
    every = [r for t in proposal.tasks for r in t.reasons]
    assert not [r for r in every if "Wilson" in r or "⇒" in r or " low " in r]
    changed = task(proposal, "summarize")
    first = changed.reasons[0]
    # what is proposed, its success as a percentage with its 95% lower bound, the target, the
    # cost per successful request and how much less it is than the current chain
    assert first.startswith("cheap-mini → strong-large instead of strong-large: ")
    assert "with 95% confidence" in first and "meeting the 98% success target" in first
    assert re.search(r"\d+% less per successful request than the current chain", first), first
    assert re.search(r"succeeds on 100\.0% of 300 requests", first), first  # the current chain
    stages = changed.reasons[1:3]
    assert re.search(
        r"cheap-mini as the first model: succeeded on \d+ of 300 requests \(", stages[0]
    )
    assert all(PLAIN.search(r) for r in stages)
    legal = task(proposal, "legal")
    assert "75% less per successful request" in legal.reasons[0]


def test_an_assumed_rescue_is_explained_without_internal_terms() -> None:
    from app.tuner.recommend import stage_reason

    ev = TaskEvidence("t", [
        Pattern((Stage("x", True),), 140), Pattern((Stage("x", False),), 60),
        Pattern((Stage("y", True),), 198), Pattern((Stage("y", False),), 2),
    ], {})  # fmt: skip
    s = Settings(min_samples=30, min_pair_samples=10, correlation=0.5)
    stats = Stats(Index(ev.patterns), min_samples=30, min_pair_samples=10, correlation=0.5)
    text = stage_reason(("x", "y"), 1, stats.after(("x",), "y"), s)
    assert text.startswith("y after x failed: never seen in the window (the tuner needs 10)")
    assert "assumed to rescue 50% of those requests" in text and "Wilson" not in text
    assert "no saving is counted" in text
