"""Strings from logs, price pages and manifests as the terminal shows them.

Such a string is data: it is never read as rich markup (``[/]`` would stop the command with a
MarkupError, ``[link=...]`` would turn into a live link) and its control characters never reach
the terminal (an ESC sequence from a log could recolour it, move the cursor or clear the
screen; a bidi override could reorder what is shown). :func:`cell` is for table cells,
:func:`inline` for a string placed inside markup the command writes itself.
"""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi embeddings/overrides
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
REPLACEMENT = "\ufffd"


def clean(value: object) -> str:
    """``value`` as text with every control character replaced by U+FFFD."""
    return _CONTROL.sub(REPLACEMENT, "" if value is None else str(value))


def cell(value: object) -> Text:
    """A table cell showing ``value`` as the text it is."""
    return Text(clean(value))


def inline(value: object) -> str:
    """``value`` cleaned and escaped, to embed in a markup string."""
    return escape(clean(value))
