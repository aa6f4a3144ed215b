"""The rendered report: escaped, mail-safe HTML; a clean plain-text part; a CSV a spreadsheet
cannot be tricked by; chat payloads."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from app.reports import build, render
from collectors import config
from tests.reports.data import IMG_TASK, SCRIPT_MODEL, WEEK


def _markup(html: str) -> tuple[set[str], set[str]]:
    """The tag names and attribute names a browser would see."""
    tags: set[str] = set()
    attrs: set[str] = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, a: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attrs.update(name for name, _ in a)

    Collect().feed(html)
    return tags, attrs


@pytest.fixture(scope="module")
def report(built_home: Path) -> dict[str, Any]:
    cfg = config.load(built_home)
    return build.build(cfg, build.parse_week(WEEK, cfg.week_start))


def test_html_escapes_every_logged_string_and_carries_no_script(report: dict[str, Any]) -> None:
    html = render.html(report)
    assert SCRIPT_MODEL not in html and IMG_TASK not in html
    assert "&lt;script&gt;alert(&#39;model&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    tags, attrs = _markup(html)
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "table",
        "tr",
        "td",
        "th",
        "div",
        "h1",
        "h2",
        "p",
        "span",
        "ul",
        "li",
        "strong",
        "br",
        "a",
        "code",
    }
    assert not [a for a in attrs if a.startswith("on")], "no event handler attribute"
    assert not {"src", "srcset", "background"} & attrs
    assert "<style" not in html and "javascript:" not in html.lower()


def test_html_shows_the_figures(report: dict[str, Any]) -> None:
    html = render.html(report)
    t = report["totals"]
    assert render.usd(t["spend_usd"]) in html and WEEK in html
    assert "Budgets this month" in html and "No budget configured" in html
    assert "regression" in html
    assert (
        "Review and approve the proposal" in html and 'href="http://localhost:8501/routing"' in html
    )
    assert render.usd(report["proposal"]["savings"]["savings_usd"]) in html


def test_without_a_proposal_the_report_says_so(report: dict[str, Any]) -> None:
    doc = dict(report, proposal=None, proposal_note="no proposal: the tuner is not installed")
    assert "no proposal: the tuner is not installed" in render.html(doc)
    assert "no proposal: the tuner is not installed" in render.text(doc)
    assert "no proposal" in repr(render.slack_payload(doc)["blocks"])


def test_plain_text_part(report: dict[str, Any]) -> None:
    text = render.text(report)
    assert render.usd(report["totals"]["spend_usd"]) in text
    assert SCRIPT_MODEL in text  # plain text is not markup: shown as it was logged
    assert "REGRESSION" in text and "SPIKE: retry rate of task debugging" in text
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)


def test_control_characters_never_reach_the_text_part(report: dict[str, Any]) -> None:
    doc = dict(report)
    doc["spend_by"] = dict(report["spend_by"])
    doc["spend_by"]["task"] = [dict(report["spend_by"]["task"][0], task="evil\x1b[31mred\x07")]
    text = render.text(doc)
    assert "\x1b" not in text and "\x07" not in text and "evil [31mred" in text


def test_csv_is_the_model_by_task_table_and_defuses_formulas(report: dict[str, Any]) -> None:
    doc = dict(report)
    doc["models_by_task"] = [
        *report["models_by_task"],
        dict(report["models_by_task"][0], model="=HYPERLINK(1)"),
    ]
    parsed = list(csv.DictReader(io.StringIO(render.models_csv(doc).decode())))
    assert list(parsed[0]) == list(render.CSV_FIELDS)
    assert len(parsed) == len(report["models_by_task"]) + 1
    assert parsed[-1]["model"] == "'=HYPERLINK(1)"
    total = sum(float(r["spend_usd"]) for r in parsed[:-1] if r["spend_usd"])  # empty: unpriced
    assert total == pytest.approx(float(report["totals"]["spend_usd"]))
    keys = {(r["provider"], r["model"], r["task"]) for r in parsed[:-1]}
    assert ("hooli", SCRIPT_MODEL, IMG_TASK) in keys


def test_slack_payload_shape_and_escaping(report: dict[str, Any]) -> None:
    p = render.slack_payload(report)
    assert isinstance(p["text"], str) and WEEK in p["text"]
    kinds = [b["type"] for b in p["blocks"]]
    assert kinds[0] == "header" and "section" in kinds
    assert p["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": f"RouteLedger weekly cost report {WEEK}",
    }
    body = repr(p["blocks"])
    assert "<script>" not in body and "&lt;script&gt;" in body
    for block in p["blocks"]:
        for text in [block.get("text", {})] + block.get("fields", []) + block.get("elements", []):
            assert len(text.get("text", "")) <= 3000


def test_json_payload_and_file(report: dict[str, Any]) -> None:
    p = render.json_payload(report)
    assert p["event"] == "weekly_report" and p["week"] == WEEK
    assert p["report"]["totals"]["spend_usd"] == float(report["totals"]["spend_usd"])
    assert '"spend_usd": ' in render.as_json(report)


def test_email_message_has_both_alternatives_and_the_attachment(report: dict[str, Any]) -> None:
    m = render.email(report)
    assert m.subject.startswith(f"RouteLedger weekly cost report {WEEK}: $")
    assert m.html and "<html" in m.html and m.text.startswith("RouteLedger weekly cost report")
    assert [(a.filename, a.mime) for a in m.attachments] == [
        ("models_by_task.csv", "text/csv"),
        ("report.json", "application/json"),
    ]
    assert json.loads(m.attachments[1].content) == json.loads(render.as_json(report))


def _visible(html: str) -> str:
    """The text a reader sees, in order."""
    out: list[str] = []

    class Text(HTMLParser):
        def handle_data(self, data: str) -> None:
            out.append(data)

    Text().feed(html)
    return " ".join(" ".join(out).split())


def test_the_summary_comes_first_in_every_rendering(report: dict[str, Any]) -> None:
    lines = report["summary"]["lines"]
    assert len(lines) == 3
    assert lines[0].startswith("Spend $") and f"in {WEEK}, up " in lines[0]
    assert lines[1].startswith("Why: ") and "retries and failures" in lines[1]
    assert lines[2].startswith("Do first: Approve the routing proposal for task review: ")
    assert "of spend)" in lines[2] and "1 slowdown" in lines[2]
    # HTML: after the title, before any figure or section
    seen = _visible(render.html(report))
    at = [seen.index(html_text(line)) for line in lines]
    assert at == sorted(at) and at[2] < seen.index("Succeeded") < seen.index("Why spend moved")
    assert seen.index("Week " + WEEK) < at[0]
    # text: the three lines right under the title
    text = render.text(report).splitlines()
    assert text[2:4] == lines[:2] and text[0].startswith("RouteLedger weekly cost report")
    assert text[4] == f"{lines[2]} ({report['links']['routing']})"  # where to do it
    # JSON: a summary key with the lines and every action
    doc = json.loads(render.as_json(report))
    assert doc["summary"]["lines"] == lines
    assert doc["summary"]["actions"][0]["kind"] == "proposal"
    assert {a["kind"] for a in doc["summary"]["actions"]} >= {"regression", "spike", "unpriced"}
    # chat: the first section after the header and dates
    blocks = render.slack_payload(report)["blocks"]
    first = blocks[2]["text"]["text"].split("\n")
    assert first[0].startswith("Spend $") and first[1].startswith("Why: ")
    assert first[2].startswith("Do first: ") and first[2].endswith("|Open>")
    assert "<script>" not in repr(blocks)  # the lines carry logged names: escaped


def html_text(line: str) -> str:
    return " ".join(line.split())


def test_why_spend_moved_is_a_section_whose_parts_add_up(report: dict[str, Any]) -> None:
    html = render.html(report)
    assert "Why spend moved" in html and "Shapley value" in html
    text = render.text(report)
    assert "WHY SPEND MOVED" in text
    d = report["drivers"]
    for p in d["parts"]:
        assert render.signed_usd(p["usd"]) in text
    assert sum(p["usd"] for p in d["parts"]) == d["change_usd"]


def test_pace_is_explained_as_expected_by_now(report: dict[str, Any]) -> None:
    budget = dict(report["budget"])
    budget["rows"] = [
        {
            "label": "all spend",
            "budget_usd": Decimal("5"),
            "spend_usd": Decimal("2"),
            "unpriced_attempts": 0,
            "pace_usd": Decimal("1.29"),
            "projected_usd": Decimal("7.75"),
            "projected_share": 1.55,
            "share": 0.4,
            "over_pace": True,
        }
    ]
    doc = dict(report, budget=budget)
    html, text = render.html(doc), render.text(doc)
    assert "Pace" not in html and "pace " not in text.lower().replace("budget pace", "")
    assert "Expected by now" in html and "expected by now $1.29" in text
    assert "the share of the month gone" in html and "the share of the month gone" in text
    summary = build.summary(doc)
    assert summary["lines"][2].startswith("Do first: Rein in all spend: projected at 155%")


def test_the_proposals_why_is_three_lines_at_most(report: dict[str, Any]) -> None:
    proposal = dict(report["proposal"])
    task = next(t for t in proposal["tasks"] if t["status"] == "changed")
    long = [f"reason {i} with many words" for i in range(20)]
    proposal["tasks"] = [dict(task, task=f"task-{i}", reasons=long) for i in range(5)]
    doc = dict(report, proposal=proposal)
    html = render.html(doc)
    section = _visible(html[html.index("Routing proposal") :])
    assert section.count("succeeds on ") == 3  # one line for each of three tasks
    assert "reason 1 with many words" not in section  # the full reasons: only in report.json
    assert "And 2 more tasks." in section and "report.json (attached to the e-mail" in section
    text = render.text(doc)
    lines = text[text.index("ROUTING PROPOSAL") :].splitlines()
    assert sum(" becomes " in line for line in lines) == 3
    assert "reason 1" not in "\n".join(lines)
    full = json.loads(render.as_json(doc))
    assert full["proposal"]["tasks"][0]["reasons"] == long  # all of it in the JSON


def test_more_rows_point_to_the_attached_json(report: dict[str, Any]) -> None:
    doc = dict(report)
    doc["spend_by"] = dict(report["spend_by"])
    row = report["spend_by"]["model"][0]
    doc["spend_by"]["model"] = [dict(row, model=f"m{i}") for i in range(render.TOP + 2)]
    html = render.html(doc)
    assert "and 2 more, all in report.json (attached to the e-mail" in html
