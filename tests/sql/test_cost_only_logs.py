"""A log with the gateway's cost but no token counts (issue 13, item 8): the reported cost stands
(a catalog price of nothing is not $0), and the tuner runs on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main

MANIFEST = """version: 1
routing: {default_budget_limit: 1.0}
providers:
  - {name: mini, model: openai/gpt-4o-mini}
  - {name: big, model: openai/gpt-4o}
tasks:
  summarize: {chain: [mini, big], success_target: 0.9, latency_target_ms: 60000}
"""


def _rows(n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        failed = i % 5 == 0
        base = {"logical_request_id": f"r{i}", "task": "summarize", "provider": "openai"}
        t = f"2026-03-03T10:{i // 60:02d}:{i % 60:02d}"
        rows.append({**base, "attempt_id": f"r{i}-1", "started_at": t + "Z",
                     "ended_at": t + ".5Z", "model": "gpt-4o-mini",
                     "status": "error" if failed else "success",
                     "error_class": "timeout" if failed else None, "cost_usd": 0.0003})  # fmt: skip
        if failed:
            rows.append({**base, "attempt_id": f"r{i}-2", "started_at": t + ".6Z",
                         "ended_at": t + ".9Z", "model": "gpt-4o", "status": "success",
                         "cost_usd": 0.004})  # fmt: skip
    return rows


def test_reported_cost_stands_without_token_counts_and_the_tuner_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()  # the bundled catalog prices gpt-4o-mini and gpt-4o: it must not win here
    (home / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    rows = _rows(100)
    log = tmp_path / "router.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    r = CliRunner()
    res = r.invoke(main, ["--home", str(home), "ingest", str(log), "--json"])
    assert res.exit_code == 0, res.output
    res = r.invoke(main, ["--home", str(home), "stats", "--since", "2026-03-01",
                          "--until", "2026-03-31", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    (task,) = json.loads(res.stdout)["tasks"]
    assert task["spend_usd"] == pytest.approx(sum(float(x["cost_usd"]) for x in rows))  # type: ignore[arg-type]
    assert task["cost_per_successful_request_usd"] == pytest.approx(task["spend_usd"] / 100)
    res = r.invoke(main, ["--home", str(home), "tune", "--manifest", str(home / "manifest.yaml"),
                          "--since", "2026-03-01", "--until", "2026-03-31", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["savings"]["current_spend_usd"] == pytest.approx(task["spend_usd"], abs=1e-6)
    assert out["tasks"][0]["status"] in ("changed", "unchanged", "insufficient_data", "infeasible")
