"""Strings from logs, price pages and manifests as the terminal shows them.

Such a string is data: it is never read as rich markup (``[/]`` would stop the command with a
MarkupError, ``[link=...]`` would turn into a live link) and its control characters never reach
the terminal (an ESC sequence from a log could recolour it, move the cursor or clear the
screen; a bidi override or mark could reorder what is shown). Which characters those are is
defined once, in :mod:`app.text_safety`. :func:`cell` is for table cells, :func:`inline` for a
string placed inside markup the command writes itself.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from app import text_safety

REPLACEMENT = text_safety.REPLACEMENT


def clean(value: object) -> str:
    """``value`` as text with every control and bidi character replaced by U+FFFD."""
    return text_safety.clean(value, REPLACEMENT)


def cell(value: object) -> Text:
    """A table cell showing ``value`` as the text it is."""
    return Text(clean(value))


def inline(value: object) -> str:
    """``value`` cleaned and escaped, to embed in a markup string."""
    return escape(clean(value))
