"""`routeledger tune`, `manifest approve|reject|history|rollback|hash-password` and
`evals import` through the real CLI (click's CliRunner), on copies of the constructed home."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from app.cli import main
from app.tuner import approvals, auth
from app.tuner import manifest as m
from collectors import config

WINDOW = ["--since", "2026-10-01", "--until", "2026-10-28"]
CONTRACT_TASK = {
    "task",
    "status",
    "current_chain",
    "proposed_chain",
    "estimated_success",
    "cost_per_successful_request_usd",
    "p95_ms",
    "reasons",
}


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)


def run_json(home: Path, *args: str) -> dict:
    r = run(home, *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_tune_json_is_the_contract(tuner_home: Path) -> None:
    out = run_json(tuner_home, "tune", *WINDOW)
    assert set(out) >= {"tasks", "savings"}
    assert set(out["savings"]) >= {"current_spend_usd", "proposed_spend_usd", "low_usd", "high_usd"}
    for t in out["tasks"]:
        assert set(t) >= CONTRACT_TASK
        assert t["status"] in ("changed", "unchanged", "insufficient_data", "infeasible")
        assert isinstance(t["current_chain"], list) and isinstance(t["proposed_chain"], list)
        assert all(isinstance(r, str) for r in t["reasons"])
    status = {t["task"]: t["status"] for t in out["tasks"]}
    assert status == {
        "summarize": "changed",
        "chat": "changed",
        "legal": "changed",
        "rare": "insufficient_data",
        "extract": "changed",
    }
    assert out["window"] == {"since": "2026-10-01", "until": "2026-10-28"}
    # no eval scores and no validation gate in these logs: every task says quality is unmeasured
    for t in out["tasks"]:
        q = t["quality_evidence"]
        assert q["measured"] is False and q["source"] is None and q["n"] == 0, q
        assert q["note"].startswith("Quality not measured: only the gateway's success")
        assert {x["model"] for x in q["models"]} == {*t["proposed_chain"], *t["current_chain"]}


def test_tune_prints_a_table_and_the_diff(tuner_home: Path) -> None:
    r = run(tuner_home, "tune", *WINDOW)
    assert r.exit_code == 0, r.output
    assert "cheap-mini → strong-large" in r.output
    assert "+    chain: [cheap-mini, strong-large]" in r.output
    assert "routeledger manifest approve" in r.output


@pytest.mark.parametrize("fmt", ["native", "litellm", "portkey", "openrouter"])
def test_tune_out_writes_the_proposal_in_each_format(
    tuner_home: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"proposal.{fmt}"
    r = run(tuner_home, "tune", *WINDOW, "--out", str(out), "--format", fmt)
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    if fmt == "native":
        assert m.loads(text).tasks["summarize"].chain == ("cheap-mini", "strong-large")
        assert "# Routing manifest for the tuner tests" in text
    elif fmt == "litellm":
        assert "model_list:" in text and "fallbacks:" in text
    elif fmt == "portkey":
        assert [t["name"] for t in json.loads(text)["targets"]][0] == "summarize"
    else:
        assert json.loads(text)["summarize"]["models"] == [
            "openai/cheap-mini",
            "anthropic/strong-large",
        ]


def test_format_without_out_is_refused(tuner_home: Path) -> None:
    r = CliRunner().invoke(main, ["--home", str(tuner_home), "tune", "--format", "litellm"])
    assert r.exit_code == 2 and "--out" in r.output


def test_approve_history_rollback(fresh_home: Path) -> None:
    path = fresh_home / "manifest.yaml"
    original = path.read_bytes()
    proposal = run_json(fresh_home, "tune", *WINDOW)
    out = run_json(
        fresh_home,
        "manifest",
        "approve",
        *WINDOW,
        "--comment",
        "cheaper chains",
        "--by",
        "alice",
        "--expect",
        proposal["proposal_sha256"][:16],
    )
    assert out["decision"] == "approved" and out["version"] == 2
    assert out["previous_sha256"] == proposal["manifest_sha256"]
    approved = path.read_text(encoding="utf-8")
    assert m.sha256(approved) == proposal["proposal_sha256"] == out["sha256"]
    assert not list(path.parent.glob(".manifest.yaml.*.tmp"))  # the temporary file was renamed

    h = run_json(fresh_home, "manifest", "history")
    assert [(v["version"], v["kind"], v["current"]) for v in h["versions"]] == [
        (2, "approved", True),
        (1, "baseline", False),
    ]
    assert Path(h["versions"][1]["stored_path"]).read_bytes() == original
    d = h["decisions"][0]
    assert (d["decision"], d["decided_by"], d["auth"], d["comment"]) == (
        "approved",
        "alice",
        "cli",
        "cheaper chains",
    )
    assert str(d["window_since"]) == "2026-10-01" and str(d["window_until"]) == "2026-10-28"
    with duckdb.connect(str(fresh_home / "warehouse.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT proposal FROM manifest_decisions").fetchall()[0][0]
    assert json.loads(stored)["proposal_sha256"] == proposal["proposal_sha256"]

    back = run_json(fresh_home, "manifest", "rollback", "1", "--comment", "undo", "--by", "bob")
    assert back["decision"] == "rolled_back" and back["version"] == 3
    assert path.read_bytes() == original  # byte for byte
    h = run_json(fresh_home, "manifest", "history")
    assert h["versions"][0]["kind"] == "rollback" and h["versions"][0]["restored_from"] == 1
    assert [d["decision"] for d in h["decisions"]] == ["rolled_back", "approved"]
    r = CliRunner().invoke(main, ["--home", str(fresh_home), "manifest", "rollback", "9"])
    assert r.exit_code == 2 and "no stored version 9" in r.output


def test_reject_records_and_writes_nothing(fresh_home: Path) -> None:
    path = fresh_home / "manifest.yaml"
    before = path.read_bytes()
    out = run_json(fresh_home, "manifest", "reject", *WINDOW, "--comment", "not now")
    assert out["decision"] == "rejected" and out["version"] is None
    assert path.read_bytes() == before
    h = run_json(fresh_home, "manifest", "history")
    assert h["versions"] == [] and h["decisions"][0]["comment"] == "not now"


def test_approve_refuses_a_stale_proposal(fresh_home: Path) -> None:
    r = CliRunner().invoke(
        main, ["--home", str(fresh_home), "manifest", "approve", *WINDOW, "--expect", "0000000000"]
    )
    assert r.exit_code == 2 and "run `routeledger tune`" in r.output
    cfg = config.load(fresh_home)
    path = fresh_home / "manifest.yaml"
    with pytest.raises(Exception, match="changed since the proposal was made"):
        approvals.approve(
            cfg, path, path.read_text(), approvals.Decision("x", "cli"), expect_sha256="f" * 64
        )


def test_a_malformed_manifest_is_one_line_naming_the_line(fresh_home: Path) -> None:
    (fresh_home / "manifest.yaml").write_text("routing:\n  a: 1\ntasks: [\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["--home", str(fresh_home), "tune", *WINDOW])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "manifest.yaml:4:" in lines[0] and "not valid YAML" in lines[0]


def test_evals_import_and_min_quality(fresh_home: Path, tmp_path: Path) -> None:
    path = fresh_home / "manifest.yaml"
    path.write_text(
        path.read_text().replace(
            "    success_target: 0.98\n", "    success_target: 0.98\n    min_quality: 0.8\n", 1
        )
    )
    scores = tmp_path / "evals.csv"
    scores.write_text(
        "task,model,score\nsummarize,cheap-mini,0.5\nsummarize,cheap-mini,0.6\n"
        "summarize,strong-large,0.95\n",
        encoding="utf-8",
    )
    out = run_json(fresh_home, "evals", "import", str(scores))
    assert out["rows"] == 3 and out["models"] == 2
    t = next(t for t in run_json(fresh_home, "tune", *WINDOW)["tasks"] if t["task"] == "summarize")
    assert t["status"] == "unchanged" and t["proposed_chain"] == ["strong-large"]
    assert any(
        "cheap-mini excluded: quality below the task's minimum of 0.8 (min_quality): "
        "eval score 0.550" in r
        for r in t["reasons"]
    )
    q = t["quality_evidence"]  # the eval scores are the quality evidence of the chosen chain
    assert q["measured"] is True and q["source"] == "evals" and q["n"] == 1
    assert q["note"] == "Quality measured: strong-large: eval score 0.950 from 1 imported score"
    bad = tmp_path / "bad.csv"
    bad.write_text("task,model,score\nsummarize,cheap-mini,1.5\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["--home", str(fresh_home), "evals", "import", str(bad)])
    assert r.exit_code == 2 and "bad.csv:2:" in r.output


def test_prices_in_force_refresh_cost_per_output_token(fresh_home: Path) -> None:
    (fresh_home / "price_overrides.yaml").write_text(
        "prices:\n  - provider: openai\n    model: cheap-mini\n    input_per_mtok: 0.10\n"
        "    output_per_mtok: 0.75\n",
        encoding="utf-8",
    )
    assert run(fresh_home, "prices", "refresh", "--source", "overrides").exit_code == 0
    out = run_json(fresh_home, "tune", *WINDOW)
    assert [p["name"] for p in out["providers"]] == ["cheap-mini"]
    change = out["providers"][0]
    assert change["cost_per_output_token"] == pytest.approx(7.5e-7)
    assert "0.0000006 → 0.00000075" in change["reason"] and "override" in change["reason"]
    r = run(fresh_home, "tune", *WINDOW)
    assert "+    cost_per_output_token: 0.00000075" in r.output


def test_hash_password_makes_an_approvers_entry(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        ["--home", str(tmp_path), "manifest", "hash-password", "carol"],
        input="s3cret\ns3cret\n",
    )
    assert r.exit_code == 0, r.output
    entry = r.output.strip().splitlines()[-1]
    assert entry.startswith("carol:pbkdf2_sha256$")
    assert auth.verify([entry], "carol", "s3cret") and not auth.verify([entry], "carol", "nope")


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_a_rejection_says_why(fresh_home: Path, comment: str | None) -> None:
    args = ["--home", str(fresh_home), "manifest", "reject", *WINDOW]
    res = CliRunner().invoke(main, args + ([] if comment is None else ["--comment", comment]))
    assert res.exit_code == 2
    assert "--comment" in res.output
    assert (
        approvals.history(config.load(fresh_home), fresh_home / "manifest.yaml")["decisions"] == []
    )
