"""Issue 14: the weekly report never shows unpriced spend as $0.00.

In every format (HTML, text, CSV, JSON, the chat payload, the e-mail): a provider or model with
no priced attempt is "unpriced (N attempts)" (an empty CSV cell beside ``unpriced_attempts``,
``null`` beside the count in JSON); a partly priced figure is its known part plus the count;
cost per successful request is the marts' own (``task_stats``, ``model_task_stats``) with its
price coverage, or "unknown" with the mart's reason; spend on failed attempts names the billing
policy; models are the canonical ones (a dated snapshot is no separate row).

Two homes: the report tests' own (``umbrella``/``umb-free`` has no cost anywhere; five of its
failures are rate limits, not billed, so its known part is exactly $0) and the small demo
(``acme`` unpriced, ``gpt-4o-mini-2024-07-18`` logged beside ``openai/gpt-4o-mini``).
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import json
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from app.demo.build import BuildResult
from app.reports import build, render
from collectors import config
from tests.demo.conftest import demo  # noqa: F401  (the session's small demo home)
from tests.reports.data import WEEK

WJ = "\u2060"  # slack_escape puts word joiners around the markers in config text too
W10 = (date(2026, 3, 2), date(2026, 3, 8))
W09 = (date(2026, 2, 23), date(2026, 3, 1))
DEMO_WEEK = "2026-W45"  # Nov 2-8: acme unpriced, gpt-4o-mini logged under two names
SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")
POLICY = (
    "failed attempts billed at logged usage; rate_limit, auth, bad_request, context_length "
    "not billed"
)


def _query(home: Path, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def report(built_home: Path) -> dict[str, Any]:
    cfg = config.load(built_home)
    return build.build(cfg, build.parse_week(WEEK, cfg.week_start))


@pytest.fixture(scope="module")
def demo_cfg(demo: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> config.Config:  # noqa: F811
    """A private copy of the small demo home (building a report keeps its marts current)."""
    home = tmp_path_factory.mktemp("demo-report") / "home"
    shutil.copytree(demo.home, home)
    return config.load(home)


@pytest.fixture(scope="module")
def demo_report(demo_cfg: config.Config) -> dict[str, Any]:
    return build.build(demo_cfg, build.parse_week(DEMO_WEEK, demo_cfg.week_start))


def _html_row(html: str, name: str, section: str = "") -> str:
    """The text of the first table row after the heading ``section`` whose first cell is
    ``name`` (a bar's own one-row table inside it skipped; a line break read as a space)."""
    start = html.index(f">{section}</h2>") if section else 0
    row = rf"<tr><td [^>]*>{re.escape(name)}(<br>.*?)?</td>.*?</tr>(?!</table>)"
    m = re.compile(row, re.S).search(html, start)
    assert m, name
    return htmllib.unescape(re.sub(r"<[^>]+>", "", m.group(0).replace("<br>", " ")))


def _text_line(text: str, section: str, name: str) -> str:
    part = text.split(section, 1)[1].split("\n\n", 1)[0]
    return next(line for line in part.splitlines() if line.strip().startswith(name))


def _unpriced_in_every_format(
    rep: dict[str, Any], home: Path, provider: str, model: str, since: date, until: date
) -> None:
    """``provider`` and ``model`` have no price in the week: shown as unpriced everywhere."""
    (mart,) = _query(
        home,
        "SELECT sum(attempts) AS attempts, sum(unpriced_attempts) AS unpriced, "
        "sum(spend_usd) AS spend FROM spend_per_day WHERE provider = ? AND local_day BETWEEN ? AND ?",
        [provider, since, until],
    )
    n = int(mart["unpriced"])
    assert n > 0 and (mart["spend"] is None or mart["spend"] == 0)
    shown = f"unpriced ({n:,} attempts)"

    row = {r["provider"]: r for r in rep["spend_by"]["provider"]}[provider]
    assert (row["spend_usd"], row["unpriced_attempts"], row["spend_status"]) == (
        None,
        n,
        "unpriced",
    )
    assert row["share"] is None and row["change_pct"] is None

    html = render.html(rep)
    for name, section in ((provider, "Spend by provider"), (model, "Spend by model")):
        cells = _html_row(html, name, section)
        assert "unpriced (" in cells and "$0.00" not in cells, cells
    assert shown in _html_row(html, provider, "Spend by provider")

    text = render.text(rep)
    line = _text_line(text, "SPEND BY PROVIDER", provider)
    assert shown in line and "$0.00" not in line, line
    line = _text_line(text, "SPEND BY MODEL", f"{model} ({provider})")
    assert "unpriced (" in line and "$0.00" not in line, line

    rows = list(csv.DictReader(io.StringIO(render.models_csv(rep).decode())))
    mine = [r for r in rows if r["provider"] == provider]
    assert mine and sum(int(r["unpriced_attempts"]) for r in mine) == n
    for r in mine:
        assert r["spend_usd"] == "" and r["cost_per_success_usd"] == "", r
        assert re.fullmatch(r"only \d+% of attempts priced", r["cost_unknown_reason"]), r

    doc = json.loads(render.as_json(rep))
    (j,) = [r for r in doc["spend_by"]["provider"] if r["provider"] == provider]
    assert j["spend_usd"] is None and j["unpriced_attempts"] == n
    assert j["spend_status"] == "unpriced"
    for r in doc["models_by_task"]:
        if r["provider"] == provider:
            assert r["spend_usd"] is None and r["unpriced_attempts"] > 0
    assert render.json_payload(rep)["report"]["spend_by"] == doc["spend_by"]

    chat = json.dumps(render.slack_payload(rep), ensure_ascii=False)
    assert f"{model} ({provider}): unpriced (" in chat
    assert f"({provider}): $0.00" not in chat

    mail = render.email(rep)
    assert shown in mail.text and shown in (mail.html or "")


def test_an_unpriced_provider_is_unpriced_in_every_format(
    report: dict[str, Any], built_home: Path
) -> None:
    # umbrella's known part is $0 (five rate-limited failures, not billed): still unpriced
    _unpriced_in_every_format(report, built_home, "umbrella", "umb-free", *W10)


def test_the_demos_unpriced_provider_is_unpriced_in_every_format(
    demo_report: dict[str, Any], demo_cfg: config.Config
) -> None:
    week = build.parse_week(DEMO_WEEK, demo_cfg.week_start)
    _unpriced_in_every_format(demo_report, demo_cfg.home, "acme", "acme-coder-7b", *week.days)


def test_a_partly_priced_total_shows_its_known_part_and_the_unpriced_count(
    report: dict[str, Any], built_home: Path
) -> None:
    (mart,) = _query(
        built_home,
        "SELECT sum(spend_usd) AS spend, sum(unpriced_attempts) AS unpriced FROM spend_per_day "
        "WHERE local_day BETWEEN ? AND ?",
        list(W10),
    )
    spend, n = mart["spend"], int(mart["unpriced"])
    assert spend > 0 and n > 0
    t = report["totals"]
    assert (t["spend_usd"], t["unpriced_attempts"], t["spend_status"]) == (spend, n, "partial")
    figure = f"{render.usd(spend)} + {n:,} unpriced attempts"
    assert f"Spend:        {figure} (" in render.text(report)
    html = render.html(report)
    assert f">{render.usd(spend)}</div>" in html and f"+ {n:,} unpriced attempts" in html
    chat = render.slack_payload(report)
    fields = next(b["fields"] for b in chat["blocks"] if "fields" in b)  # after the summary
    assert fields[0]["text"].startswith(f"*Spend*\n{figure} (")
    assert chat["blocks"][2]["text"]["text"].startswith(f"Spend {figure} in {WEEK}")
    assert chat["text"].startswith(f"RouteLedger weekly cost report {WEEK}: {figure} (")
    doc = json.loads(render.as_json(report))["totals"]
    assert (doc["spend_usd"], doc["unpriced_attempts"]) == (float(spend), n)
    # a partly priced row says so too, with last week's beside it
    task = next(r for r in report["spend_by"]["task"] if r["task"] == "debugging")
    assert task["spend_status"] == "partial" and task["prev_spend_status"] == "partial"
    line = _text_line(render.text(report), "SPEND BY TASK", "debugging")
    assert f"{render.usd(task['spend_usd'])} + {task['unpriced_attempts']:,} unpriced" in line
    # the month to date and its budget: a lower bound, never a silent $0
    b = report["budget"]
    assert b["month_unpriced_attempts"] > 0 and b["month_to_date_usd"] > 0
    month = f"{render.usd(b['month_to_date_usd'])} + {b['month_unpriced_attempts']:,} unpriced"
    assert month in render.text(report)


def test_spend_on_failures_names_the_billing_policy(
    report: dict[str, Any], built_home: Path
) -> None:
    (mart,) = _query(
        built_home,
        "SELECT sum(spend_on_failures_usd) AS spend, sum(unpriced_failed_attempts) AS unpriced, "
        "sum(attempts - successes) AS failed, sum(not_billed_attempts) AS not_billed "
        "FROM spend_per_day WHERE local_day BETWEEN ? AND ?",
        list(W10),
    )
    t = report["totals"]
    assert t["spend_on_failures_usd"] == mart["spend"] > 0
    assert t["unpriced_failed_attempts"] == mart["unpriced"] > 0
    assert t["failed_attempts"] == mart["failed"] and t["not_billed_attempts"] == mart["not_billed"]
    figure = (
        f"{render.usd(mart['spend'])} + {int(mart['unpriced']):,} unpriced failed attempts; "
        f"{int(mart['failed']):,} failed attempts, {int(mart['not_billed']):,} not billed"
    )
    assert report["billing"]["text"] == POLICY
    text = render.text(report)
    assert f"Failures:     {figure}" in text and f"Billing policy: {POLICY}." in text
    html = render.html(report)
    assert figure in html and f"Billing policy: {POLICY}." in html
    chat = json.dumps(render.slack_payload(report), ensure_ascii=False).replace(WJ, "")
    assert figure in chat and POLICY in chat
    assert json.loads(render.as_json(report))["billing"]["text"] == POLICY


def test_the_policy_text_follows_the_configuration(
    make_cfg: Callable[[str], config.Config],
) -> None:
    cfg = make_cfg(
        '\n[billing]\nfailed_attempts = "reported"\nnot_billed_error_classes = ["auth"]\n\n'
        '[billing.providers.umbrella]\nfailed_attempts = "none"\n'
    )
    rep = build.build(cfg, build.parse_week(WEEK, cfg.week_start))
    policy = (
        "failed attempts billed at the gateway's reported cost (else logged usage); auth not "
        "billed. umbrella: failed attempts not billed"
    )
    assert rep["billing"]["text"] == policy
    assert rep["billing"]["rules"][1] == {
        "provider": "umbrella",
        "failed_attempts": "none",
        "not_billed_error_classes": ["auth"],
    }
    assert f"Billing policy: {policy}." in render.text(rep)
    # rate limits are billed now: fewer not-billed failures than under the default policy
    (mart,) = _query(
        cfg.home,
        "SELECT sum(not_billed_attempts) AS n FROM spend_per_day WHERE local_day BETWEEN ? AND ?",
        list(W10),
    )
    assert rep["totals"]["not_billed_attempts"] == mart["n"]


def _task_stats(home: Path, since: date, until: date) -> dict[str, dict[str, Any]]:
    rows = _query(
        home,
        "SELECT task, cost_per_successful_request_usd, price_coverage, cost_unknown_reason, "
        "spend_usd, succeeded FROM task_stats(?, ?)",
        [since, until],
    )
    return {r["task"]: r for r in rows}


def test_cost_per_success_is_the_marts_with_its_coverage_or_unknown(
    report: dict[str, Any], built_home: Path
) -> None:
    cur, prev = _task_stats(built_home, *W10), _task_stats(built_home, *W09)
    assert {t["task"] for t in report["tasks"]} == set(cur)
    text, html = render.text(report), render.html(report)
    for t in report["tasks"]:
        m, p = cur[t["task"]], prev[t["task"]]
        assert t["cost_per_success_usd"] == m["cost_per_successful_request_usd"]
        assert t["price_coverage"] == m["price_coverage"]
        assert t["cost_unknown_reason"] == m["cost_unknown_reason"]
        assert t["prev_cost_per_success_usd"] == p["cost_per_successful_request_usd"]
        assert t["prev_cost_unknown_reason"] == p["cost_unknown_reason"]
    # a quarter of the attempts has no price: every task is below the default 80% this week
    debugging = {t["task"]: t for t in report["tasks"]}["debugging"]
    reason = cur["debugging"]["cost_unknown_reason"]
    assert debugging["cost_per_success_usd"] is None and reason == "only 67% of requests priced"
    assert f"unknown ({reason})" in _text_line(text, "COST PER SUCCESSFUL REQUEST", "debugging")
    assert f"unknown ({reason})" in _html_row(
        html, "debugging", "Cost per successful request, per task"
    )
    doc = {t["task"]: t for t in json.loads(render.as_json(report))["tasks"]}
    assert doc["debugging"]["cost_per_success_usd"] is None
    assert doc["debugging"]["cost_unknown_reason"] == reason
    assert doc["debugging"]["price_coverage"] == pytest.approx(
        float(cur["debugging"]["price_coverage"])
    )


def test_a_known_cost_per_success_shows_its_price_coverage(
    make_cfg: Callable[[str], config.Config],
) -> None:
    cfg = make_cfg("\n[metrics]\nmin_price_coverage = 0.5\n")
    rep = build.build(cfg, build.parse_week(WEEK, cfg.week_start))
    cur = _task_stats(cfg.home, *W10)
    t = {r["task"]: r for r in rep["tasks"]}["debugging"]
    m = cur["debugging"]
    assert t["cost_per_success_usd"] == m["cost_per_successful_request_usd"] is not None
    # over priced requests only: not the task's whole spend over all its successes
    assert float(t["cost_per_success_usd"]) != pytest.approx(float(m["spend_usd"]) / m["succeeded"])
    shown = f"{render.usd(t['cost_per_success_usd'])} (67% of requests priced)"
    assert shown in _text_line(render.text(rep), "COST PER SUCCESSFUL REQUEST", "debugging")
    assert shown in _html_row(
        render.html(rep), "debugging", "Cost per successful request, per task"
    )
    # per model, the CSV carries model_task_stats' figure and coverage as they are
    stats = {
        (r["provider"], r["model"], r["task"]): r
        for r in _query(
            cfg.home,
            "SELECT provider, model, task, cost_per_success_usd, price_coverage, "
            "cost_unknown_reason FROM model_task_stats(?, ?)",
            list(W10),
        )
    }
    rows = list(csv.DictReader(io.StringIO(render.models_csv(rep).decode())))
    assert len(rows) == len(stats)
    for r in rows:
        s = stats[(r["provider"], r["model"], r["task"])]
        want = s["cost_per_success_usd"]
        if want is None:
            assert r["cost_per_success_usd"] == "" and r["cost_unknown_reason"], r
        else:
            assert float(r["cost_per_success_usd"]) == pytest.approx(float(want))
        assert float(r["price_coverage"]) == pytest.approx(float(s["price_coverage"]))
        assert r["cost_unknown_reason"] == (s["cost_unknown_reason"] or "")


def test_models_are_canonical(demo_report: dict[str, Any], demo_cfg: config.Config) -> None:
    week = build.parse_week(DEMO_WEEK, demo_cfg.week_start)
    logged = {
        r["served_model"]
        for r in _query(
            demo_cfg.home,
            "SELECT DISTINCT served_model FROM attempts WHERE local_day BETWEEN ? AND ?",
            list(week.days),
        )
    }
    # the week has the snapshot and the plain name: the test can fail
    assert {"gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"} <= logged
    shown = {
        "latency": {(r["provider"], r["model"]) for r in demo_report["latency"]},
        "spend_by": {(r["provider"], r["model"]) for r in demo_report["spend_by"]["model"]},
        "models_by_task": {(r["provider"], r["model"]) for r in demo_report["models_by_task"]},
        "unpriced": {(r["provider"], r["model"]) for r in demo_report["unpriced"]},
    }
    for where, pairs in shown.items():
        for provider, model in pairs:
            assert not SNAPSHOT.search(model), (where, model)
            assert "/" not in model, (where, model)  # no "openai/gpt-4o-mini" as logged
            assert provider != "gemini", (where, provider)  # the canonical slug is google
    assert ("openai", "gpt-4o-mini") in shown["latency"]
    assert ("google", "gemini-2.5-pro") in shown["spend_by"]
    mini = [r for r in demo_report["models_by_task"] if r["model"] == "gpt-4o-mini"]
    assert any("gpt-4o-mini-2024-07-18" in r["logged_models"] for r in mini)
    # one latency row for the model, its n over every name it was logged under
    (n,) = [r["n"] for r in demo_report["latency"] if r["model"] == "gpt-4o-mini"]
    (mart,) = _query(
        demo_cfg.home,
        "SELECT count(*) AS n FROM attempts WHERE model = 'gpt-4o-mini' AND status = 'success' "
        "AND local_day BETWEEN ? AND ?",
        list(week.days),
    )
    assert n == mart["n"]
    text = render.text(demo_report)
    assert "gpt-4o-mini-2024-07-18" not in text.split("ROUTING PROPOSAL")[0]
