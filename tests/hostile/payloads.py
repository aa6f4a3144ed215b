"""What the hostile corpus is made of: the payloads (each would set ``window.__pwned`` or the
document title, or open a dialog, if it ever ran in a browser), and the shapes of corpus files.

A log file is a list of :class:`Line`: the bytes of one line and what must become of it:

* ``OK``: loaded as an attempt (its strings stored as data, escaped only when shown);
* ``DUP``: a repeat of an attempt already loaded, counted in ``duplicates_skipped``;
* ``NONE``: a line that holds no model call (a CSV header, an OTel HTTP span): neither loaded
  nor an error;
* ``SKIP``: not an LLM call by the format's own rule, counted in ``skipped_non_llm``;
* ``QUARANTINED``: quarantined in ``raw_quarantine``, for whatever reason;
* any other string: quarantined in ``raw_quarantine`` with that reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).with_name("corpus")
WEEK = "2025-W36"  # Monday 2025-09-01 .. Sunday 2025-09-07
MAX_LINE_BYTES = 131072  # ingest.max_line_bytes of the test homes (tests/hostile/conftest.py)

# -- payloads -------------------------------------------------------------------------------------
# Each one, if it ever ran in a browser, would set window.__pwned or the document title, or open
# a dialog; the browser test asserts none of that happens on any page or in the report.
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
SVG = "<svg/onload=window.__pwned=3>"
TITLE = "\"><script>document.title='pwned'</script>"
IFRAME = '<iframe srcdoc="<script>parent.__pwned=4</script>"></iframe>'
DIALOG = "<details open ontoggle=alert(5)>"
MD_LINK = "[click me](javascript:window.__pwned=6)"
MD_IMG = "![tracker](https://example.invalid/pixel.png)"
TEMPLATE = "{{7*7}} ${7*7} %{x} {0}"
RICH = "[/][bold red]rich[/bold red] [link=https://example.invalid]x[/link]"
FORMULA = '=HYPERLINK("https://example.invalid","x")'
ANSI = "\x1b[31mred\x1b[0m\x07"
BIDI = "\u202egnp.exe"
NUL = "nul\x00byte"
LONG = "m" * 60_000  # a 60 kB model name: stored cut to the column limit

MARKUP = (SCRIPT, IMG, SVG, TITLE, IFRAME, DIALOG)  # must never become live markup
OK, DUP, NONE, SKIP = "ok", "dup", "none", "skip"
QUARANTINED = "quarantined"  # for any reason

DAY = "2025-09-0{d}T{h:02d}:{m:02d}:{s:02d}Z"


def ts(day: int, second: int) -> str:
    """An ISO time on 2025-09-0<day>, ``second`` seconds after 09:00 UTC."""
    minutes, s = divmod(second, 60)
    return DAY.format(d=day, h=9 + minutes // 60, m=minutes % 60, s=s)


def epoch(day: int, second: int) -> float:
    return 1756717200.0 + (day - 1) * 86400 + second  # 2025-09-01T09:00:00Z + ...


@dataclass(frozen=True)
class Line:
    raw: bytes
    expect: str
    why: str = ""


@dataclass(frozen=True)
class LogFile:
    name: str
    format: str  # --format
    lines: tuple[Line, ...]
    tail: bytes  # the truncated last line (no newline)
    mapping: str | None = None
    what: str = ""

    def content(self) -> bytes:
        return b"".join(line.raw + b"\n" for line in self.lines) + self.tail

    def expected(self) -> dict[int, str]:
        return {i: line.expect for i, line in enumerate(self.lines, start=1)}


@dataclass(frozen=True)
class File:
    name: str
    data: bytes
    what: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def j(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=True).encode()


def deep_open(n: int = 100_000) -> bytes:
    return b"[" * n


def deep_closed(n: int) -> bytes:
    return b"[" * n + b"]" * n


def with_raw(raw: bytes, key: str, value: bytes) -> bytes:
    """``raw`` (a JSON object) with ``"key": value`` spliced in as raw bytes (not JSON)."""
    return raw[:-1] + b', "' + key.encode() + b'": ' + value + b"}"
