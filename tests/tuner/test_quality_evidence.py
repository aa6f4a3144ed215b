"""Whether a task's quality was measured (``quality_evidence`` of ``routeledger tune --json``):
eval scores, a validation gate in the logs, or only the gateway's success."""

from __future__ import annotations

from app.tuner.evidence import ModelObs, TaskEvidence
from app.tuner.proposal import NOT_MEASURED, quality_evidence
from app.tuner.recommend import TaskResult


def result(current: tuple[str, ...], proposed: tuple[str, ...]) -> TaskResult:
    return TaskResult("t", "changed", current, proposed, None, None, [])


def test_only_the_gateways_success_is_not_a_quality_measure() -> None:
    ev = TaskEvidence("t", [], {"a": ModelObs("a", attempts=500, successes=490)})
    q = quality_evidence(ev, result(("b",), ("a",)))
    assert q["measured"] is False and q["source"] is None and q["n"] == 0
    assert q["note"] == NOT_MEASURED
    assert "evals import" in q["note"] and "validation" in q["note"]


def test_a_validation_gate_in_the_logs_is_measured_quality() -> None:
    ev = TaskEvidence(
        "t",
        [],
        {
            "a": ModelObs("a", attempts=500, validated=400, passed=380),
            "b": ModelObs("b", attempts=300, scored=200, quality_sum=170.0),
        },
    )
    q = quality_evidence(ev, result(("b",), ("a", "b")))
    assert q["measured"] is True and q["source"] == "validation" and q["n"] == 600
    a, b = q["models"]
    assert (a["model"], a["validation_pass_rate"], a["validated_attempts"]) == ("a", 0.95, 400)
    assert (b["model"], b["mean_quality_score"], b["scored_attempts"]) == ("b", 0.85, 200)
    assert q["note"] == (
        "Quality measured: a: validation passed on 95.0% of 400 checked attempts; "
        "b: mean quality score 0.850 over 200 attempts"
    )


def test_evals_for_part_of_the_chain_say_which_model_is_unmeasured() -> None:
    ev = TaskEvidence("t", [], {"a": ModelObs("a"), "b": ModelObs("b")}, evals={"a": (0.9, 40)})
    q = quality_evidence(ev, result(("a",), ("a", "b")))
    assert q["measured"] is False and q["source"] == "evals" and q["n"] == 40
    assert q["note"].startswith("Quality measured only in part: b not measured")
    assert "a: eval score 0.900 from 40 imported scores" in q["note"]
