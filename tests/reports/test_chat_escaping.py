"""Issue 15, item 8: logged strings in the weekly report's chat payload and files.

* Slack ``mrkdwn``: ``*``, ``_``, ``~`` and backticks in a model, task or team name used to
  format the message, a bare URL became a link, a line break started a fake line or a quote.
  Now every logged string goes through ``deliver.slack_escape`` (one line; ``&<>`` as the
  entities Slack prescribes; each marker between two word joiners, U+2060) inside ``mrkdwn``
  text objects marked ``verbatim`` (Slack's switch for "no automatic links, mentions or channel
  names").
* Bidi controls, the marks U+200E, U+200F and U+061C included, are replaced in the HTML, the
  plain text, the CSV and the chat payload (the marks used to pass everywhere, and the chat
  payload kept even the overrides).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from app.reports import build, deliver, render
from collectors import config
from tests.reports.data import WEEK

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
WJ = "\u2060"
HOSTILE = {
    "model": "*gpt* _mini_ ~old~ `code`\u202egnp.exe",
    "provider": "<!channel> https://evil.example/login",
    "task": "review\n> *URGENT*: approve at https://evil.example\u200f",
    "team": "@here #general :rotating_light:\u061c",
}
BARE_MARKER = re.compile(rf"(?<!{WJ})[*_~`]|[*_~`](?!{WJ})")


@pytest.fixture(scope="module")
def report(built_home: Path) -> dict[str, Any]:
    cfg = config.load(built_home)
    return build.build(cfg, build.parse_week(WEEK, cfg.week_start))


@pytest.fixture
def hostile(report: dict[str, Any]) -> dict[str, Any]:
    """The report with the top model, task and team renamed, and a budget row and the proposal
    note carrying the same strings."""
    doc = copy.deepcopy(report)
    for dim in ("model", "task", "team"):
        row = doc["spend_by"][dim][0]
        row[dim] = HOSTILE[dim]
        if dim == "model":
            row["provider"] = HOSTILE["provider"]
    doc["models_by_task"][0].update(
        model=HOSTILE["model"], provider=HOSTILE["provider"], task=HOSTILE["task"]
    )
    doc["budget"]["rows"] = [
        {"label": HOSTILE["team"], "share": 0.5, "projected_share": 0.9, "spend_usd": 5,
         "budget_usd": 10, "pace_usd": 4, "projected_usd": 9}
    ]  # fmt: skip
    doc["proposal"], doc["proposal_note"] = None, HOSTILE["task"]
    return doc


def _text_objects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for block in payload["blocks"]:
        for obj in [block.get("text")] + block.get("fields", []) + block.get("elements", []):
            if isinstance(obj, dict):
                out.append(obj)
    return out


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_slack_escape_makes_a_logged_string_inert(name: str) -> None:
    raw = HOSTILE[name]
    out = deliver.slack_escape(raw)
    assert "\n" not in out and not any(c in out for c in BIDI)
    assert "<" not in out and ">" not in out  # no <link|label>, <!channel>, <@user>, quote
    assert not BARE_MARKER.search(out), out  # every * _ ~ ` between two word joiners
    # what a reader sees once Slack decodes the entities: the name, on one line
    seen = out.replace(WJ, "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert seen == re.sub(f"[\n{BIDI}]", " ", raw)


def test_slack_payload_carries_logged_strings_inert_in_verbatim_objects(
    hostile: dict[str, Any],
) -> None:
    payload = render.slack_payload(hostile)
    objects = _text_objects(payload)
    mrkdwn = [o for o in objects if o["type"] == "mrkdwn"]
    assert mrkdwn and all(o.get("verbatim") is True for o in mrkdwn)  # no auto links/mentions
    assert all("verbatim" not in o for o in objects if o["type"] == "plain_text")
    body = "\n".join(o["text"] for o in objects)
    for name in ("model", "provider", "task", "team"):
        assert deliver.slack_escape(HOSTILE[name]) in body, name
    assert not any(c in body for c in BIDI)
    assert "<!channel>" not in body and "\n>" not in body and "\n> " not in body
    assert "*Top models*" in body and "*Spend*" in body  # the report's own markup still works


def test_no_bidi_or_control_character_reaches_the_report_files(hostile: dict[str, Any]) -> None:
    outputs = {
        "html": render.html(hostile),
        "text": render.text(hostile),
        "csv": render.models_csv(hostile).decode("utf-8"),
    }
    for kind, out in outputs.items():
        assert not any(c in out for c in BIDI), kind
        assert not re.search(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]", out), kind
    assert "gnp.exe" in outputs["text"] and "gnp.exe" in outputs["csv"]
