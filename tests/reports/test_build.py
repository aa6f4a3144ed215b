"""The report's figures against the marts (queried directly here) and against the generated
rows themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from app.reports import build, weekly
from collectors import config
from tests.reports.data import IMG_TASK, PREV_WEEK, SCRIPT_MODEL, WEEK, billed_cost, rows

BERLIN = ZoneInfo("Europe/Berlin")


def _local_day(iso: str) -> date:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BERLIN).date()


def _spend(since: date, until: date, **match: Any) -> Decimal:
    """Known spend of the generated rows themselves: the gateway-reported cost of each attempt
    billed under the default policy (unpriced ones left out, never summed as 0)."""
    costs = [
        billed_cost(r)
        for r in rows()
        if since <= _local_day(r["started_at"]) <= until
        and all(r.get(k) == v for k, v in match.items())
    ]
    return sum((c for c in costs if c is not None), Decimal(0))


@pytest.fixture(scope="module")
def report(built_home: Path) -> dict[str, Any]:
    cfg = config.load(built_home)
    return build.build(cfg, build.parse_week(WEEK, cfg.week_start))


def _mart(home: Path, sql: str, params: list[Any]) -> Any:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params).fetchall()[0][0]
    finally:
        con.close()


def test_totals_equal_the_marts_and_the_logs(report: dict[str, Any], built_home: Path) -> None:
    since, until = date(2026, 3, 2), date(2026, 3, 8)
    mart = _mart(
        built_home,
        "SELECT sum(spend_usd) FROM spend_per_day WHERE local_day BETWEEN ? AND ?",
        [since, until],
    )
    t = report["totals"]
    assert t["spend_usd"] == mart == _spend(since, until)
    assert t["prev"]["spend_usd"] == _spend(date(2026, 2, 23), date(2026, 3, 1))
    assert t["logical_requests"] == _mart(
        built_home,
        "SELECT count(*) FROM logical_requests WHERE local_day BETWEEN ? AND ?",
        [since, until],
    )
    assert t["change_pct"] == pytest.approx(
        float((t["spend_usd"] - t["prev"]["spend_usd"]) / t["prev"]["spend_usd"])
    )
    # every breakdown's known parts add up to the total, with the previous week beside it, and
    # so do its unpriced attempts
    for dim, rows_ in report["spend_by"].items():
        known = [r["spend_usd"] for r in rows_ if r["spend_usd"] is not None]
        assert sum(known) == t["spend_usd"], dim
        prev = [r["prev_spend_usd"] for r in rows_ if r["prev_spend_usd"] is not None]
        assert sum(prev) == t["prev"]["spend_usd"], dim
        assert sum(r["unpriced_attempts"] for r in rows_) == t["unpriced_attempts"] > 0, dim
    by_task = {r["task"]: r for r in report["spend_by"]["task"]}
    assert by_task["debugging"]["spend_usd"] == _spend(since, until, task="debugging")
    assert by_task[IMG_TASK]["prev_spend_usd"] == _spend(
        date(2026, 2, 23), date(2026, 3, 1), task=IMG_TASK
    )
    teams = {r["team"] for r in report["spend_by"]["team"]}
    assert teams == {"search", "support", "(none)"}


def test_the_known_changes_are_found(report: dict[str, Any]) -> None:
    regressions = [(r["provider"], r["model"]) for r in report["regressions"]]
    assert regressions == [("hooli", SCRIPT_MODEL)]
    assert report["regression_factor"] == 1.3
    spikes = {(s["metric"], s["scope"], s["name"]) for s in report["spikes"]}
    assert ("retry rate", "task", "debugging") in spikes
    assert ("error rate", "task", "debugging") in spikes
    unpriced = {u["model"]: u for u in report["unpriced"]}
    assert unpriced["umb-free"]["unpriced_attempts"] == report["totals"]["unpriced_attempts"] > 0
    assert report["price_changes"] == []
    assert report["week"] == WEEK and report["previous_week"] == PREV_WEEK


def test_the_pending_routing_proposal_is_the_tuners(
    report: dict[str, Any], built_home: Path
) -> None:
    from app.tuner.proposal import propose

    expected = propose(config.load(built_home)).as_json()
    got = report["proposal"]
    assert got is not None and report["proposal_note"] == ""
    changed = [
        (t["task"], t["current_chain"], t["proposed_chain"])
        for t in got["tasks"]
        if t["status"] == "changed"
    ]
    assert changed == [("review", ["acme-large"], ["ini-small"])]
    assert changed == [
        (t["task"], t["current_chain"], t["proposed_chain"])
        for t in expected["tasks"]
        if t["status"] == "changed"
    ]
    assert got["savings"]["savings_usd"] == expected["savings"]["savings_usd"] > 0
    assert report["links"]["routing"] == "http://localhost:8501/routing"


def test_no_proposal_is_said_plainly(make_cfg: Callable[[str], config.Config]) -> None:
    # the tuner ships in the same package as the report (app.tuner), so "not installed" is no
    # longer a case; a missing manifest is
    cfg = make_cfg("")
    (cfg.home / "manifest.yaml").unlink()
    proposal, note = build.pending_proposal(cfg)
    assert proposal is None and note.startswith("no proposal: no routing manifest at ")


def test_cost_per_success_per_task_and_its_change(
    make_cfg: Callable[[str], config.Config],
) -> None:
    # a quarter of the attempts (umb-free) has no price: below the default 80% coverage the
    # marts say "unknown" (test_unpriced.py); at 50% they give a figure for every task
    cfg = make_cfg("\n[metrics]\nmin_price_coverage = 0.5\n")
    report = build.build(cfg, build.parse_week(WEEK, cfg.week_start))
    mart = _mart(
        cfg.home,
        "SELECT cost_per_successful_request_usd FROM task_stats('2026-03-02', '2026-03-08') "
        "WHERE task = ?",
        ["debugging"],
    )
    t = {r["task"]: r for r in report["tasks"]}["debugging"]
    assert t["cost_per_success_usd"] == mart is not None
    assert t["cost_unknown_reason"] is None and 0.5 <= t["price_coverage"] < 1
    assert t["cost_change_pct"] == pytest.approx(
        float(t["cost_per_success_usd"] / t["prev_cost_per_success_usd"] - 1)
    )


def test_budget_pace_is_the_month_so_far_against_the_elapsed_share(
    make_cfg: Callable[[str], config.Config],
) -> None:
    cfg = make_cfg("\n[budget]\nmonthly_usd = 31.0\n\n[budget.tasks]\ndebugging = 3.1\n")
    rep = build.build(cfg, build.parse_week(WEEK, cfg.week_start))
    b = rep["budget"]
    mtd = _spend(date(2026, 3, 1), date(2026, 3, 8))
    assert (b["month"], b["elapsed_days"], b["days_in_month"]) == ("2026-03", 8, 31)
    assert b["month_to_date_usd"] == mtd
    total, task = b["rows"]
    assert (total["scope"], task["scope"], task["name"]) == ("total", "task", "debugging")
    assert total["pace_usd"] == Decimal("8.000000")  # 31 * 8 / 31
    assert total["projected_usd"] == (mtd / 8 * 31).quantize(Decimal("0.000001"))
    assert task["spend_usd"] == _spend(date(2026, 3, 1), date(2026, 3, 8), task="debugging")


def test_weekly_saves_the_four_files(make_cfg: Callable[[str], config.Config]) -> None:
    cfg = make_cfg("")
    res = weekly(cfg, WEEK)
    assert res.folder == cfg.home / "reports" / WEEK
    assert {p.name for p in res.folder.iterdir()} == {
        "report.html",
        "report.txt",
        "models_by_task.csv",
        "report.json",
    }
    assert res.deliveries == []
    assert res.as_json()["totals"]["spend_usd"] == float(res.report["totals"]["spend_usd"])


def test_a_rejected_proposal_is_said_rejected_and_not_offered_again(
    make_cfg: Callable[[str], config.Config],
) -> None:
    """Decisions show in the next report: the same proposal, rejected, is reported with who
    rejected it and why, with no "review and approve" link in any part of the report."""
    import json

    from app.reports import render
    from app.tuner import approvals
    from app.tuner.proposal import propose

    cfg = make_cfg("")
    p = propose(cfg)
    assert p.changed
    decision = approvals.Decision("alice", "cli", "wait for the eval run")
    approvals.reject(
        cfg,
        Path(p.manifest.file),
        p.text,
        decision,
        window=(p.since, p.until),
        proposal=p.as_json(),
    )
    report = build.build(cfg, build.parse_week(WEEK, cfg.week_start))
    rejected = report["proposal"]["rejected"]
    assert (rejected["decided_by"], rejected["comment"]) == ("alice", "wait for the eval run")
    html, text, chat = render.html(report), render.text(report), render.slack_payload(report)
    assert "Review and approve" not in html and "Review and approve" not in text
    assert "review and approve" not in json.dumps(chat)
    assert "<strong>Rejected</strong> by alice" in html and "Rejected by alice" in text
    assert "routing proposal rejected by alice" in json.dumps(chat)
    # and the decision is listed in the report of the week it was made in
    today = datetime.now(ZoneInfo(cfg.timezone)).date()
    made = build.decisions_in(cfg, build.week_of(today, cfg.week_start))
    assert [(d["decision"], d["decided_by"]) for d in made] == [("rejected", "alice")]
    assert build.decisions_in(cfg, build.parse_week(WEEK, cfg.week_start)) == []
