"""Exploration plans: where the logs cannot yet show that a cheaper chain meets the target, the
tuner proposes an experiment, writes it into the manifest as a weighted split, exports it to
LiteLLM and Portkey, and concludes it from the logs."""

from __future__ import annotations

import json
import math
import random
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from app.cli import main
from app.tuner import explore, exports
from app.tuner import manifest as manifest_mod
from app.tuner.evidence import ModelObs, Pattern, Stage, TaskEvidence
from app.tuner.manifest import Changes, Experiment, Provider, Task
from app.tuner.recommend import Settings, recommend
from collectors import config, pipeline
from tests.tuner import logs

PROVIDERS = {n: Provider(n, n, None, (), None, None) for n in ("cheap", "strong")}
TASK = Task("t", ("strong",), 0.95, None, None, (), None)


def thin_cheap() -> TaskEvidence:
    """600 requests on strong (97% succeed); cheap tried first on 25 (24 succeeded, the failure
    rescued by strong): cheaper and likely good enough, but too little evidence to show it."""
    ev = TaskEvidence("t", [
        Pattern((Stage("strong", True),), 582), Pattern((Stage("strong", False),), 18),
        Pattern((Stage("cheap", True),), 24),
        Pattern((Stage("cheap", False), Stage("strong", True)), 1),
    ], {})  # fmt: skip
    ev.models = {
        "strong": ModelObs("strong", attempts=601, successes=583,
                           cost={True: (0.02 * 583, 583), False: (0.02 * 18, 18)}),
        "cheap": ModelObs("cheap", attempts=25, successes=24,
                          cost={True: (0.001 * 24, 24), False: (0.001, 1)}),
    }  # fmt: skip
    return ev


def test_the_plan_is_sized_from_the_evidence() -> None:
    # 1.645 sd above the target, to be shown at 95%: twice the variance needs ~1.7x the requests
    assert explore.requests_needed(0.95, 0.02, 100, 0.93, 0.95) == pytest.approx(
        100 * ((1.6448536 * 0.02 / 0.02) ** 2 - 1), rel=1e-5
    )
    assert explore.requests_needed(0.92, 0.02, 100, 0.93, 0.95) == math.inf  # cannot show it
    r = recommend(thin_cheap(), TASK, PROVIDERS, Settings(), date(2026, 11, 1))
    assert r.status == "unchanged" and r.plan is not None
    p = r.plan
    assert p.chain[0] == "cheap" and p.share == 0.1 and p.estimated_success > TASK.success_target
    assert p.meet_probability >= explore.MIN_MEET_PROBABILITY
    assert p.requests >= 30 - 25  # enough for tuner.min_samples on cheap at least
    daily = 625 / 28
    assert p.days == math.ceil(p.requests / (daily * 0.1))
    assert p.extra_cost_usd < 0  # cheaper while it runs
    assert p.id == explore.experiment_id("t", p.chain, date(2026, 11, 1))
    assert p.reason in r.reasons and p.reason.startswith("experiment: send 10% of t's requests")
    # no plan when exploring is off, or when it would take longer than allowed
    off = Settings(exploration_share=0.0)
    assert recommend(thin_cheap(), TASK, PROVIDERS, off).plan is None
    slow = Settings(max_exploration_days=1, exploration_share=0.01)
    assert recommend(thin_cheap(), TASK, PROVIDERS, slow).plan is None


def test_an_experiment_is_concluded_from_the_logs() -> None:
    r = recommend(thin_cheap(), TASK, PROVIDERS, Settings(), date(2026, 11, 1))
    assert r.plan is not None
    running = explore.start(r.plan, date(2026, 11, 1))
    verdict, why = explore.conclude(running, r, r.explored, TASK.success_target)
    assert verdict == "running" and "0 of" in why
    # its requests arrived and the chain still cannot be shown to meet the target: stopped
    done = Experiment(running.id, running.chain, 0.1, 3, "2026-11-01", running.baseline - 10)
    verdict, why = explore.conclude(done, r, r.explored, TASK.success_target)
    assert verdict == "stopped" and "stopped after 10 requests" in why
    # a chain whose model is no longer eligible
    gone = Experiment("exp-x", ("other",), 0.1, 100, "2026-11-01")
    assert explore.conclude(gone, r, r.explored, TASK.success_target)[0] == "ineligible"


def test_the_manifest_carries_the_experiment_and_the_exports_split_by_weight() -> None:
    m = manifest_mod.loads(logs.MANIFEST)
    exp = Experiment("exp-0123456789", ("cheap-mini", "strong-large"), 0.1, 240, "2026-11-01", 25)
    text = manifest_mod.render(m, Changes(experiments={"summarize": exp}))
    again = manifest_mod.loads(text)
    assert again.tasks["summarize"].experiment == exp
    assert "deployment_note" in text  # the rest kept as written
    # LiteLLM: the experiment's first model beside the chain's, both order 1, weighted
    cfg = YAML(typ="safe").load(exports.litellm(again))
    first = [
        d["litellm_params"]
        for d in cfg["model_list"]
        if d["model_name"] == "summarize" and d["litellm_params"]["order"] == 1
    ]
    weights = {p["model"]: p["weight"] for p in first}
    chain = [again.providers[n].model for n in again.tasks["summarize"].chain]
    assert weights[chain[0]] == pytest.approx(0.9) and weights["openai/cheap-mini"] == 0.1
    fallbacks = {k: v for f in cfg["router_settings"]["fallbacks"] for k, v in f.items()}
    assert "strong-large" in fallbacks["summarize"]
    # Portkey: a loadbalance of the two fallback chains, exactly
    pk = exports.portkey_task(again, "summarize")
    assert pk["strategy"] == {"mode": "loadbalance"}
    assert [t["weight"] for t in pk["targets"]] == [pytest.approx(0.9), 0.1]
    assert [t["strategy"]["mode"] for t in pk["targets"]] == ["fallback", "fallback"]
    models = [[x["override_params"]["model"] for x in t["targets"]] for t in pk["targets"]]
    assert models[1] == ["cheap-mini", "strong-large"]
    # removing it leaves the task as it was
    gone = manifest_mod.render(again, Changes(experiments={"summarize": None}))
    assert manifest_mod.loads(gone).tasks["summarize"].experiment is None


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("{id: e, chain: [nope], share: 0.1}", "'nope' is not a name under providers"),
        ("{id: e, chain: [cheap-mini], share: 0.9}", "at most 0.5"),
        ("{chain: [cheap-mini], share: 0.1}", "expected the experiment's id"),
        ("[1, 2]", "expected a mapping"),
    ],
)
def test_a_malformed_experiment_names_its_line(bad: str, says: str) -> None:
    text = logs.MANIFEST.replace("  summarize:\n", f"  summarize:\n    experiment: {bad}\n", 1)
    with pytest.raises(manifest_mod.ManifestError, match=says):
        manifest_mod.loads(text)


def explore_scenario() -> dict[str, list[list[logs.Attempt]]]:
    rng = random.Random(3)
    reqs: list[list[logs.Attempt]] = []
    for _ in range(600):  # today: strong-large alone, 99% succeed (the target is 98%)
        ok = rng.random() < 0.99
        reqs.append([("strong-large", ok, 0.02, logs.lat(rng, 900))])
    for _ in range(25):  # cheap-mini tried on a few: every one succeeded, too few to judge
        reqs.append([("cheap-mini", True, 0.001, logs.lat(rng, 400))])
    rng.shuffle(reqs)
    return {"summarize": reqs}


MANIFEST = logs.MANIFEST.replace(
    "    chain: [cheap-mini, strong-large]", "    chain: [strong-large]", 1
)


def test_tune_plans_an_experiment_and_approval_writes_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert "chain: [strong-large]" in MANIFEST
    logs.build_home(home, explore_scenario(), MANIFEST)
    pipeline.update_marts(config.load(home))
    run = CliRunner().invoke(
        main,
        ["--home", str(home), "tune", "--json", "--since", logs.SINCE, "--until", logs.UNTIL],
    )
    assert run.exit_code == 0, run.output
    got = json.loads(run.output)
    task = next(t for t in got["tasks"] if t["task"] == "summarize")
    exp = task["experiment"]
    assert exp["state"] == "planned" and exp["chain"][0] == "cheap-mini" and exp["share"] == 0.1
    assert exp["requests"] > 0 and exp["days"] >= 1
    assert any(r.startswith("experiment: send 10%") for r in task["reasons"])
    out = tmp_path / "proposed.yaml"
    run = CliRunner().invoke(
        main,
        ["--home", str(home), "tune", "--since", logs.SINCE, "--until", logs.UNTIL,
         "--out", str(out)],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    proposed = manifest_mod.loads(out.read_text(encoding="utf-8"))
    written = proposed.tasks["summarize"].experiment
    assert written is not None and written.id == exp["id"] and written.requests == exp["requests"]
    assert proposed.tasks["summarize"].chain == ("strong-large",)  # the chain itself unchanged


def test_the_routing_page_shows_the_experiment(tmp_path: Path) -> None:
    from tests.tuner.test_verify import routing_page

    home = tmp_path / "home"
    logs.build_home(home, explore_scenario(), MANIFEST)
    pipeline.update_marts(config.load(home))
    at = routing_page(home)
    shown = [m.value for m in at.markdown if "Experiment proposed" in m.value]
    assert len(shown) == 1
    assert "cheap" in shown[0] and "10% of the task's traffic" in shown[0]
    assert "saves $" in shown[0]


def test_an_unknown_extra_cost_is_null_in_json_not_nan() -> None:
    """A chain that is not fully priced has no known extra cost (the demo's tuner met one): the
    plan's JSON says null, as JSON has no NaN, and ``tune --json`` stays valid JSON."""
    plan = explore.Plan("exp-1", "t", ("cheap",), 0.1, 40, 3, 0.97, 0.8, math.nan, 0.4, "r")
    doc = plan.as_dict()
    assert doc["extra_cost_usd"] is None
    json.dumps(doc, allow_nan=False)
    priced = explore.Plan("exp-1", "t", ("cheap",), 0.1, 40, 3, 0.97, 0.8, -0.25, 0.4, "r")
    assert priced.as_dict()["extra_cost_usd"] == -0.25
