"""Strings from logs, price pages and manifests as the terminal shows them, and the console and
tables every command prints with.

Such a string is data: it is never read as rich markup (``[/]`` would stop the command with a
MarkupError, ``[link=...]`` would turn into a live link) and its control characters never reach
the terminal (an ESC sequence from a log could recolour it, move the cursor or clear the
screen; a bidi override or mark could reorder what is shown). Which characters those are is
defined once, in :mod:`app.text_safety`. :func:`cell` is for table cells, :func:`inline` for a
string placed inside markup the command writes itself.

A table never cuts a figure short with "…". :func:`console` is as wide as the terminal, and
anywhere else (a pipe, a redirect, a script) as wide as the widest line, so nothing is wrapped
or cut. On a terminal too narrow for a table, :func:`print_table` keeps every word of a figure
column (``justify="right"``) whole and lets the text columns wrap (a long name folds); then it
drops the box for a lighter one; then it prints the table in parts, each repeating the leading
text columns (task, model, ...). Only on a terminal too narrow for even that does a figure
fold onto a second line.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import takewhile

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from app import text_safety

REPLACEMENT = text_safety.REPLACEMENT
UNBOUNDED = 100_000  # the width of output that is not a terminal: no line is ever wrapped
TEXT_MIN = 8  # a text column squeezed on a narrow terminal keeps at least this many characters


def clean(value: object) -> str:
    """``value`` as text with every control and bidi character replaced by U+FFFD."""
    return text_safety.clean(value, REPLACEMENT)


def cell(value: object) -> Text:
    """A table cell showing ``value`` as the text it is."""
    return Text(clean(value))


def inline(value: object) -> str:
    """``value`` cleaned and escaped, to embed in a markup string."""
    return escape(clean(value))


def console(stderr: bool = False) -> Console:
    """The command's output: on a terminal as wide as the terminal; anywhere else as wide as
    what is printed (rich would otherwise wrap and cut at 80 columns, or ``$COLUMNS``)."""
    out = Console(stderr=stderr)
    return out if out.is_terminal else Console(stderr=stderr, width=UNBOUNDED)


def print_table(out: Console, table: Table) -> None:
    """Print ``table`` on ``out`` with no figure cut (see the module docstring)."""
    for part in fit(table, out.width, out):
        out.print(part)


@dataclass(frozen=True)
class _Size:
    natural: int  # the longest line of the column, header included
    word: int  # its longest word
    figure: bool  # a figure column (right-justified): its words are never broken

    def floor(self, whole_words: bool) -> int:
        """The least width: every word of a figure, and of any column with ``whole_words``."""
        return self.word if self.figure or whole_words else min(self.natural, TEXT_MIN)


def fit(table: Table, width: int, out: Console) -> list[Table]:
    """``table`` laid out in ``width`` columns: itself when it fits; else the same rows with
    widths that keep every figure whole, in a lighter box if need be, or in parts."""
    for column in table.columns:
        column.overflow = "fold"  # never "…": a word wider than its column folds
        column.no_wrap = False
    options = out.options.update_width(UNBOUNDED)
    sizes = []
    for c in table.columns:
        measured = [Measurement.get(out, options, r) for r in (c.header, *c.cells)]
        sizes.append(
            _Size(
                max(m.maximum for m in measured),
                max(m.minimum for m in measured),
                c.justify == "right",
            )
        )
    everything = list(range(len(sizes)))
    compact = _compact(table)
    for styled, whole_words in ((table, True), (compact, True), (compact, False)):
        widths = _widths(styled, sizes, width, out, whole_words)
        if widths == [s.natural for s in sizes] and styled is table:
            return [table]
        if widths is not None:
            return [_part(styled, everything, widths)]
    # in parts: the leading text columns (what a row is about), then as many figures as fit
    key = list(takewhile(lambda i: not sizes[i].figure, everything))
    if len(key) == len(everything):  # no figure to keep whole: rich folds the text
        return [table]
    for whole_words in (True, False):
        parts: list[list[int]] = []
        for i in everything[len(key) :]:
            if parts and _fits(compact, sizes, [*key, *parts[-1], i], width, out, whole_words):
                parts[-1].append(i)
            elif _fits(compact, sizes, [*key, i], width, out, whole_words):
                parts.append([i])
            else:
                break
        else:
            tables = []
            for n, part in enumerate(parts):
                columns = [*key, *part]
                widths = _widths(compact, [sizes[i] for i in columns], width, out, whole_words)
                assert widths is not None  # noqa: S101  (it fitted while grouping)
                tables.append(_part(compact, columns, widths, continued=n > 0))
            return tables
    return [table]  # too narrow for one figure beside the key: rich folds where it must


def _fits(
    style: Table, sizes: list[_Size], columns: list[int], width: int, out: Console, whole: bool
) -> bool:
    return _widths(style, [sizes[i] for i in columns], width, out, whole) is not None


def _widths(
    style: Table, sizes: list[_Size], width: int, out: Console, whole_words: bool
) -> list[int] | None:
    """Content widths for columns of ``sizes`` in a table styled like ``style`` within
    ``width``: the natural widths when they fit; else each at its floor (:meth:`_Size.floor`),
    then the text columns raised towards their longest word, evenly, then columns to their
    natural width, the nearest first (the most cells on one line); None when the floors do not
    fit."""
    room = width - _overhead(style, len(sizes), out)
    natural = [s.natural for s in sizes]
    if sum(natural) <= room:
        return natural
    widths = [s.floor(whole_words) for s in sizes]
    if sum(widths) > room:
        return None
    words = [max(w, s.word) for w, s in zip(widths, sizes, strict=True)]
    while sum(widths) < room and widths != words:  # a character at a time, the most cut first
        short = [t - w for t, w in zip(words, widths, strict=True)]
        widths[short.index(max(short))] += 1
    for i in sorted(range(len(sizes)), key=lambda i: natural[i] - widths[i]):
        widths[i] += min(natural[i] - widths[i], room - sum(widths))
    return widths


def _overhead(style: Table, columns: int, out: Console) -> int:
    """Borders and padding of a table styled like ``style`` with that many columns."""
    probe = _part(style, [], None)
    for _ in range(columns):
        probe.add_column("x")
    return Measurement.get(out, out.options.update_width(UNBOUNDED), probe).maximum - columns


def _compact(table: Table) -> Table:
    """``table`` with no outer edge and one space less between columns."""
    lighter = _part(table, list(range(len(table.columns))), None)
    lighter.box = box.SIMPLE_HEAD
    lighter.show_edge = False
    lighter.pad_edge = False
    lighter.padding = (0, 1, 0, 0)
    return lighter


def _part(
    table: Table, columns: Sequence[int], widths: Sequence[int] | None, continued: bool = False
) -> Table:
    """A table with ``columns`` of ``table`` (its style and rows), at ``widths`` if given."""
    part = copy.copy(table)
    part.columns, part.rows = [], []
    if continued and isinstance(table.title, str):
        part.title = f"{table.title} (continued)"
    for n, i in enumerate(columns):
        c = table.columns[i]
        part.add_column(
            c.header,
            c.footer,
            header_style=c.header_style,
            footer_style=c.footer_style,
            style=c.style,
            justify=c.justify,
            vertical=c.vertical,
            overflow=c.overflow,
            width=c.width if widths is None else widths[n],
            min_width=c.min_width,
            max_width=c.max_width,
            ratio=c.ratio,
            no_wrap=c.no_wrap,
            highlight=c.highlight,
        )
    if columns:
        cells = [list(table.columns[i].cells) for i in columns]
        for row, values in zip(table.rows, zip(*cells, strict=True), strict=True):
            part.add_row(*values, style=row.style, end_section=row.end_section)
    return part
