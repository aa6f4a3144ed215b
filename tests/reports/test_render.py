"""The rendered report: escaped, mail-safe HTML; a clean plain-text part; a CSV a spreadsheet
cannot be tricked by; chat payloads."""

from __future__ import annotations

import csv
import io
import re
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
    assert "Budget pace" in html and "No budget configured" in html
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
    assert [a.filename for a in m.attachments] == ["models_by_task.csv"]
