"""Characters a string from a log (or a price page, a manifest) must not carry to the person
reading it, defined once for every place that shows such strings: the terminal
(:mod:`app.cli.text`), the weekly report's HTML, text, CSV and chat payload
(:mod:`app.reports.render`, :func:`app.reports.deliver.slack_escape`) and the dashboard's
tables and chart labels (:mod:`app.ui`).

* control characters: C0 but tab and newline (NUL, which SMTP refuses; ESC, which starts a
  terminal escape sequence), DEL and C1;
* bidirectional formatting characters, which reorder what is shown around them, so a team named
  ``\\u202egnp.exe`` reads "exe.png": the embeddings and overrides U+202A-U+202E, the isolates
  U+2066-U+2069, and the marks U+200E (LRM), U+200F (RLM) and U+061C (ALM).

Tab and newline are left to each context: a terminal table or a plain-text report may keep
them, a one-line context (a chat line, a table cell) uses :data:`UNSAFE_OR_BREAK`.
"""

from __future__ import annotations

import re

CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{CONTROL}{BIDI}]")
UNSAFE_OR_BREAK = re.compile(f"[\\t\\n{CONTROL}{BIDI}]")
REPLACEMENT = "\ufffd"


def clean(value: object, replacement: str = REPLACEMENT) -> str:
    """``value`` as text with every unsafe character replaced (tab and newline kept)."""
    return UNSAFE.sub(replacement, "" if value is None else str(value))


def one_line(value: object, replacement: str = " ") -> str:
    """``value`` as text on one line: unsafe characters, tabs and line breaks replaced."""
    return UNSAFE_OR_BREAK.sub(replacement, "" if value is None else str(value))
