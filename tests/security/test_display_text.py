"""Issue 15, item 8: logged strings reach the dashboard and the terminal as the text they are.

* Bidi controls (U+202A-U+202E, U+2066-U+2069, and the marks U+200E, U+200F, U+061C) reorder
  what is shown around them: they are replaced in dashboard tables (``app.ui.table``), chart
  labels and CLI output. One definition: ``app.text_safety``.
* The cost heatmap's axis labels were escaped with ``html.escape``, quotes included; plotly.js
  decodes ``&amp; &lt; &gt;`` and numeric entities but not ``&quot;``, so a task named
  ``say "hi"`` was shown as ``say &quot;hi&quot;``. Labels are now escaped exactly as plotly.js
  reads them. :func:`plotly_shows` is a port of what plotly.js's ``convertToTspans`` (the one
  that draws axis ticks, hover labels and cell text; read from the plotly.js bundled with
  Streamlit) makes of a label: the text it shows and the tags it interprets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app import text_safety, ui
from app.cli import text as cli_text

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]  # fmt: skip
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"]

# plotly.js svg_text_utils: TAG_STYLES (br handled apart), the entity table, the regexes
PLOTLY_TAGS = {"sup", "sub", "s", "u", "b", "i", "a", "span", "em"}
PLOTLY_ENTITIES = {"mu": "μ", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "×",
                   "plusmn": "±", "deg": "°"}  # fmt: skip
_SPLIT = re.compile(r"(<[^<>]*>)")
_ONE_TAG = re.compile(r"<(/?)([^ >]*)(\s+(.*))?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] == "x" else int(name[1:])
        return chr(code) if code <= 0x10FFFF else m.group(0)
    return PLOTLY_ENTITIES.get(name, m.group(0))


def plotly_shows(label: str) -> tuple[str, list[str]]:
    """(the text plotly.js shows for ``label``, the tags it interprets as markup)."""
    text: list[str] = []
    tags: list[str] = []
    for part in _SPLIT.split(re.sub(r"\r\n?|\n", " ", label)):
        m = _ONE_TAG.match(part)
        tag = m.group(2).lower() if m else None
        if tag == "br" or tag in PLOTLY_TAGS:
            tags.append(str(tag))
        else:
            text.append(_ENTITY.sub(_entity, part))
    return "".join(text), tags


def test_the_port_reads_labels_as_plotly_does() -> None:
    assert plotly_shows("<b>x</b>") == ("x", ["b", "b"])
    assert plotly_shows("a &amp; b &lt;c&gt; &#60;d&#x3e; &quot;") == ("a & b <c> <d> &quot;", [])
    assert plotly_shows("<x>") == ("<x>", [])  # an unknown tag is text
    assert plotly_shows('<a href="https://evil.example">go</a>') == ("go", ["a", "a"])


LABELS = [
    "a&b <x>",
    'say "hi"',
    "it's",
    "<b>bold</b>",
    '<a href="https://evil.example/">click</a>',
    "<script>alert(1)</script>",
    "x<br>y",
    "&amp; &lt; &#60;b&#62; &quot;",
    "plain-name",
]


@pytest.fixture
def cost_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """app.views.cost, imported outside a server (it renders its page at import: on an empty
    home here, so it only says there is nothing to show)."""
    monkeypatch.setenv("ROUTELEDGER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    from app.views import cost

    yield cost


def _cells(models: list[str], tasks: list[str]) -> pd.DataFrame:
    rows = []
    for i, (model, task) in enumerate(zip(models, tasks, strict=True)):
        rows.append({"model": model, "provider": "acme", "task": task, "spend_usd": 1.0 + i,
                     "attempts": 10, "successes": 9, "success_rate": 0.9,
                     "success_rate_low": 0.6, "unpriced_attempts": 0,
                     "cost_per_success_usd": 0.01 * (i + 1)})  # fmt: skip
    return pd.DataFrame(rows)


def test_heatmap_labels_show_the_logged_names_literally_and_once(cost_view: Any) -> None:
    fig = cost_view.heatmap(_cells(LABELS, list(reversed(LABELS))))
    trace = fig.to_plotly_json()["data"][0]  # what the browser receives
    shown_x = [plotly_shows(str(v)) for v in trace["x"]]
    shown_y = [plotly_shows(str(v)) for v in trace["y"]]
    assert sorted(text for text, _ in shown_x) == sorted(LABELS)
    assert sorted(text for text, _ in shown_y) == sorted(f"{m} · acme" for m in LABELS)
    assert all(tags == [] for _, tags in shown_x + shown_y)  # no bold, no link, no line break
    raw = repr(trace["x"]) + repr(trace["y"])
    assert "<" not in raw.replace("&lt;", "") and "&quot;" not in raw.replace("&amp;quot;", "")


def test_heatmap_labels_carry_no_bidi_or_control_character(cost_view: Any) -> None:
    names = [f"team{c}gnp.exe" for c in BIDI + CONTROL]
    fig = cost_view.heatmap(_cells(names, names))
    trace = fig.to_plotly_json()["data"][0]
    for label in [*trace["x"], *trace["y"]]:
        assert not text_safety.UNSAFE.search(str(label)), repr(label)
        assert plotly_shows(str(label))[0].startswith("team\ufffdgnp.exe")


def test_chart_labels_escape_only_what_plotly_reads() -> None:
    for label in LABELS:
        assert plotly_shows(ui.safe(label)) == (label.replace("\n", " "), [])
    series = ui.safe(pd.Series(LABELS + [None], dtype=object))
    assert [plotly_shows(v)[0] for v in series[:-1]] == LABELS and pd.isna(series.iloc[-1])
    assert ui.safe('say "hi"') == 'say "hi"' != html.escape('say "hi"')


def test_dashboard_tables_show_no_bidi_or_control_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: dict[str, Any] = {}
    monkeypatch.setattr(ui.st, "dataframe", lambda df, **kw: shown.setdefault("df", df))
    monkeypatch.setattr(ui.st, "download_button", lambda *a, **kw: shown.setdefault("csv", kw))
    names = [f"\u202egnp.exe{c}" for c in BIDI + CONTROL]
    df = pd.DataFrame({
        "team": names,
        "model": pd.Series(names, dtype="string"),
        "attempts": range(len(names)),
        "note": [None] * len(names),
    })  # fmt: skip
    ui.table(df, "teams")
    out = shown["df"]
    for col in ("team", "model"):
        for v in out[col]:
            assert not text_safety.UNSAFE.search(v) and v.startswith("\ufffdgnp.exe"), repr(v)
    assert list(out["attempts"]) == list(range(len(names)))
    assert out["note"].isna().all()
    csv = shown["csv"]["data"]().decode("utf-8")
    assert not text_safety.UNSAFE.search(csv)
    assert df["team"].tolist() == names  # the caller's frame is left as it was


@pytest.mark.parametrize("char", BIDI + CONTROL)
def test_cli_output_replaces_every_unsafe_character(char: str) -> None:
    value = f"team{char}gnp.exe"
    assert cli_text.clean(value) == "team\ufffdgnp.exe"
    assert cli_text.cell(value).plain == "team\ufffdgnp.exe"
    assert cli_text.inline(value) == "team\ufffdgnp.exe"


def test_one_definition_of_unsafe_display_characters() -> None:
    """Every module that cleans logged strings for display uses app.text_safety, not a pattern
    of its own."""
    root = Path(__file__).resolve().parents[2] / "app"
    own = re.compile(r"re\.compile\([^)]*\\u202[aA]")
    for path in root.rglob("*.py"):
        if path.name != "text_safety.py":
            assert not own.search(path.read_text(encoding="utf-8")), path
