"""The weekly report of a week full of hostile names: every file of it carries the names as
text. The HTML has no element a payload would create, no file has a control character (a NUL
made the e-mail unsendable, an ESC or bidi override reached the reader's terminal or mail
client), and no CSV cell is a spreadsheet formula. ``test_browser.py`` opens the HTML."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.hostile.conftest import copy_corpus, make_home, run_json
from tests.hostile.payloads import FORMULA, IMG, MARKUP, SCRIPT, WEEK

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TAGS = re.compile(r"<\s*(script|img|svg|iframe|details)\b", re.I)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile-report")
    home = make_home(root / "home")
    for name, fmt in (
        ("routeledger.jsonl", "routeledger"),
        ("routeledger.csv", "routeledger"),
        ("litellm_slp.jsonl", "litellm"),
    ):
        run_json(home, "ingest", str(copy_corpus(f"logs/{name}", root)), "--format", fmt)
    out = run_json(home, "report", "weekly", "--week", WEEK)
    return {k: Path(v) for k, v in out["files"].items()}


def test_the_html_shows_markup_as_text(report: dict[str, Path]) -> None:
    html = report["html"].read_text(encoding="utf-8")
    assert not TAGS.search(html), TAGS.search(html)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "onerror=&#34;window.__pwned=2&#34;" in html or "onerror=&quot;" in html
    assert not CONTROL.search(html)


def test_the_text_and_json_keep_the_names_without_control_characters(
    report: dict[str, Path],
) -> None:
    text = report["text"].read_text(encoding="utf-8")
    assert SCRIPT in text and IMG in text
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    doc = json.loads(report["json"].read_text(encoding="utf-8"))
    names = json.dumps(doc)
    assert all(json.dumps(p)[1:-1] in names for p in MARKUP[:2])


def test_no_csv_cell_is_a_formula_or_holds_a_control_character(report: dict[str, Path]) -> None:
    rows = list(csv.reader(io.StringIO(report["csv"].read_text(encoding="utf-8"))))
    cells = [c for row in rows[1:] for c in row]
    assert "'" + FORMULA in cells  # the formula is there, as text
    for c in cells:
        assert not CONTROL.search(c), repr(c)
        if c[:1] in ("=", "+", "-", "@"):
            float(c)  # only a number may start like a formula
