"""Verification after approval: the approved change's forecast against the requests since, from
the CLI; a change doing worse than forecast proposes the rollback, never applies it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from app.tuner import verify
from collectors import config, pipeline
from collectors.pipeline import ingest
from tests.tuner.test_cli import WINDOW, run_json


def approve(home: Path) -> dict:
    proposal = run_json(home, "tune", *WINDOW)
    task = next(t for t in proposal["tasks"] if t["task"] == "summarize")
    assert task["status"] == "changed"
    f = task["forecast"]
    assert f["success_low"] <= f["success"] <= f["success_high"]
    assert f["cost_per_successful_request_low_usd"] <= f["cost_per_successful_request_usd"]
    assert f["cost_per_successful_request_usd"] <= f["cost_per_successful_request_high_usd"]
    assert f["p95_low_ms"] <= f["p95_ms"] <= f["p95_high_ms"]
    run_json(home, "manifest", "approve", *WINDOW, "--expect", proposal["proposal_sha256"][:16])
    return task


def backdate(home: Path, when: datetime) -> None:
    """As if the approval had been made at ``when`` (the logs are in October 2026)."""
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("UPDATE manifest_decisions SET decided_at = ?", [when.replace(tzinfo=None)])


def after(home: Path, start: datetime, n: int, ok_share: float) -> None:
    """``n`` summarize requests on the approved chain from ``start``: cheap-mini first, and
    strong-large after a failure, succeeding as ``ok_share`` says overall."""
    rows = []
    for r in range(n):
        t = start + timedelta(minutes=5 * r)
        ok = r < n * ok_share
        attempts = [("cheap-mini", ok)] if ok else [("cheap-mini", False), ("strong-large", False)]
        for i, (model, good) in enumerate(attempts):
            end = t + timedelta(milliseconds=400)
            rows.append({
                "attempt_id": f"after-{r}-{i}", "logical_request_id": f"after-{r}",
                "attempt_index": i + 1, "started_at": t.isoformat(), "ended_at": end.isoformat(),
                "provider": "openai" if model == "cheap-mini" else "anthropic", "model": model,
                "task": "summarize", "status": "success" if good else "error",
                "error_class": None if good else "server_error", "input_tokens": 100,
                "output_tokens": 50, "cost_usd": 0.001 if model == "cheap-mini" else 0.02,
            })  # fmt: skip
            t = end + timedelta(milliseconds=10)
    log = home / "after.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in rows), encoding="utf-8")
    cfg = config.load(home)
    assert ingest(cfg, [str(log)]).quarantined == 0
    pipeline.update_marts(cfg)


def test_a_change_doing_worse_than_forecast_proposes_the_rollback(fresh_home: Path) -> None:
    approve(fresh_home)
    start = datetime(2026, 10, 29, 8, 0, tzinfo=UTC)
    backdate(fresh_home, start - timedelta(hours=1))
    got = run_json(fresh_home, "manifest", "verify")
    summarize = next(c for c in got["checks"] if c["task"] == "summarize")
    assert summarize["verdict"] == "too_early" and summarize["actual"]["requests"] == 0
    after(fresh_home, start, 200, 0.70)  # the chain now fails 30% of the time
    got = run_json(fresh_home, "manifest", "verify")
    summarize = next(c for c in got["checks"] if c["task"] == "summarize")
    assert summarize["actual"]["requests"] == 200 and summarize["actual"]["succeeded"] == 140
    assert summarize["verdict"] == "worse"
    assert summarize["actual"]["success_high"] < summarize["forecast"]["success_low"]
    assert summarize["rollback_to"] == 1
    assert any("routeledger manifest rollback 1" in x for x in summarize["findings"])
    # per local day (UTC here): 5 minutes apart from 08:00, 192 before midnight
    assert [d["requests"] for d in summarize["days"]] == [192, 8]
    # never applied by itself: the approved manifest is still in place
    h = run_json(fresh_home, "manifest", "history")
    assert [v["current"] for v in h["versions"]][0] is True and h["versions"][0]["version"] == 2
    # the weekly report and the Routing page say the same
    from app.reports import build, render

    cfg = config.load(fresh_home)
    report = build.build(cfg, build.week_of(date(2026, 10, 29), cfg.week_start))
    v = next(x for x in report["verification"] if x["task"] == "summarize")
    assert (v["verdict"], v["rollback_to"]) == ("worse", 1) and v["actual"]["requests"] == 200
    text = render.text(report)
    assert "summarize: worse, 200 requests since the approval." in text
    assert "routeledger manifest rollback 1" in text
    page = routing_page(fresh_home)
    shown = [e.value for e in page.warning if "worse than forecast" in e.value]
    assert len(shown) == 1 and "routeledger manifest rollback 1" in shown[0]
    table = next(d.value for d in page.dataframe if "forecast_p95_ms" in d.value.columns)
    assert list(table.loc[table["task"] == "summarize", "requests"]) == [200]


def routing_page(home: Path):  # type: ignore[no-untyped-def]
    import os

    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    before = (os.environ.get("ROUTELEDGER_HOME"), st_config.get_option("server.address"))
    os.environ["ROUTELEDGER_HOME"] = str(home)
    st_config.set_option("server.address", "127.0.0.1")
    try:
        page = Path(__file__).resolve().parents[2] / "app" / "views" / "routing.py"
        at = AppTest.from_file(str(page), default_timeout=120)
        at.run()
    finally:
        if before[0] is None:
            os.environ.pop("ROUTELEDGER_HOME", None)
        else:
            os.environ["ROUTELEDGER_HOME"] = before[0]
        st_config.set_option("server.address", before[1])
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_change_as_forecast_stays(fresh_home: Path) -> None:
    task = approve(fresh_home)
    start = datetime(2026, 10, 29, 8, 0, tzinfo=UTC)
    backdate(fresh_home, start - timedelta(hours=1))
    after(fresh_home, start, 300, 1.0)
    checks = verify.check(config.load(fresh_home), (fresh_home / "manifest.yaml").resolve())
    c = next(c for c in checks if c.task == "summarize")
    assert c.verdict in ("as_forecast", "better") and c.rollback_to is None
    assert c.chain == task["proposed_chain"]


@pytest.mark.parametrize(
    ("succeeded", "n", "verdict"),
    [(10, 12, "too_early"), (95, 100, "worse"), (995, 1000, "as_forecast"), (1000, 1000, "better")],
)
def test_the_verdict_rules(succeeded: int, n: int, verdict: str) -> None:
    lo, hi = verify.wilson(succeeded, n)
    actual = {"requests": n, "succeeded": succeeded, "success": succeeded / n,
              "success_low": lo, "success_high": hi, "cost_per_success_usd": None,
              "p95_ms": None}  # fmt: skip
    forecast = {"success_low": 0.985, "success_high": 0.996}
    assert verify.judge(forecast, actual, 30)[0] == verdict


def _drift_con(first_after_ms: float, first_fail_after: float) -> duckdb.DuckDBPyConnection:
    """Attempts of task t: model a first (then b after a failure) before and after an approval
    on 2026-10-15; after it, a's latency and failure rate are as given."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE attempts (task VARCHAR, requested_model VARCHAR, model VARCHAR,"
        " served_model VARCHAR, started_at TIMESTAMP, status VARCHAR, latency_ms DOUBLE)"
    )
    rows = []
    for day, after in ((5, False), (20, True)):
        for i in range(400):
            t = datetime(2026, 10, day, 8) + timedelta(minutes=i)
            fail_share = first_fail_after if after else 0.02
            failed = i < 400 * fail_share
            latency = (first_after_ms if after else 1000.0) * (1 + i % 10 / 10)
            rows.append(("t", "a", "a", "p/a", t, "error" if failed else "success", latency))
            if failed:
                rows.append(("t", "b", "b", "p/b", t, "success", 900.0))
    con.executemany("INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return con


PROPOSAL = {"window": {"since": "2026-10-01", "until": "2026-10-14"}}


def test_a_model_that_changed_in_place_explains_the_shortfall_and_no_rollback() -> None:
    """Model a is first before and after the approval and got slower since: the change is not
    to blame, rolling back would keep a first, so the verdict is drifted, with why."""
    con = _drift_con(first_after_ms=3000.0, first_fail_after=0.02)
    task = {"task": "t", "proposed_chain": ["a", "b"], "current_chain": ["a", "c", "b"]}
    findings = ["P95 latency 5,700 ms is above the forecast's 1,900 ms"]
    at = datetime(2026, 10, 15)
    assert verify._attribute(con, task, PROPOSAL, at, findings) == "drifted"
    assert any("a itself is slower" in f and "5,700 ms" in f for f in findings), findings
    assert "routeledger tune --since 2026-10-15" in findings[-1]


def test_a_model_that_did_not_change_leaves_the_change_to_blame() -> None:
    con = _drift_con(first_after_ms=1000.0, first_fail_after=0.02)
    task = {"task": "t", "proposed_chain": ["a", "b"], "current_chain": ["a", "c", "b"]}
    findings = ["P95 latency 5,700 ms is above the forecast's 1,900 ms"]
    assert verify._attribute(con, task, PROPOSAL, datetime(2026, 10, 15), findings) == "worse"
    assert len(findings) == 1


def test_a_drifted_model_explains_nothing_where_the_old_chain_did_not_put_it() -> None:
    """a fails more since the approval, but the chain before had c first: rolling back would
    have met the same requests with c, so the change is to blame."""
    con = _drift_con(first_after_ms=1000.0, first_fail_after=0.3)
    findings = ["success 70.0% (95% interval 65.0% to 74.0%) is below the forecast's 97% to 99%"]
    moved = {"task": "t", "proposed_chain": ["a", "b"], "current_chain": ["c", "a", "b"]}
    at = datetime(2026, 10, 15)
    assert verify._attribute(con, moved, PROPOSAL, at, list(findings)) == "worse"
    kept = {"task": "t", "proposed_chain": ["a", "b"], "current_chain": ["a", "b", "c"]}
    got = list(findings)
    assert verify._attribute(con, kept, PROPOSAL, at, got) == "drifted"
    assert any("a itself fails more" in f and "30.0%" in f for f in got), got
