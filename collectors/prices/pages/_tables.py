"""Reading price tables out of Markdown pages by their structure, not their position.

:func:`find_tables` returns every table with the text blocks that precede it (since the previous
table) and the heading path above it. :func:`classify_header` turns a column header such as
``"Short context cached input"`` or ``"5m Cache Writes"`` into what the column prices, and
:func:`money` reads one price cell (``$3 / MTok``, ``$0.075``, ``Free``, ``-``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from collectors.prices.common import PriceValueError, checked, to_decimal

_MD = MarkdownIt("commonmark").enable("table")
_SEPARATOR = re.compile(r"(?<!\\)\|")

NOT_OFFERED = frozenset(
    {"", "-", "–", "—", "n/a", "na", "not available", "not offered", "not supported"}
)
_MONEY = re.compile(
    r"^\$\s*(?P<amount>[\d,]*\.?\d+)\s*"
    r"(?:/\s*(?P<unit>mtok|1m tokens|1m token|million tokens|m tokens|1m))?$",
    re.I,
)
_BAD_MONEY = re.compile(  # what a price cell should never say: named, then refused
    r"^(?P<minus>[-\u2212]\s*)?\$\s*(?P<minus2>[-\u2212]\s*)?(?P<amount>[\d,]*\.?\d+|nan|inf(?:inity)?)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # heading | paragraph | html
    level: int  # heading level, 0 for other blocks
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    before: list[Block] = field(default_factory=list)  # blocks since the previous table
    headings: list[str] = field(default_factory=list)  # heading path above the table (h1..h6)

    def column(self, *words: str) -> int | None:
        """Index of the first header equal to one of ``words`` (case-insensitive)."""
        for i, header in enumerate(self.headers):
            if header.strip().lower() in words:
                return i
        return None


def find_tables(markdown: str) -> list[Table]:
    """Every table of the page, with its context. Rows that look cut off are dropped.

    A row is "cut off" when its line has fewer column separators than the header line, or the
    header line ends with ``|`` and the row's does not: a page truncated mid-row must not turn
    ``$15`` into ``$1`` or a missing cell into "not offered".
    """
    lines = markdown.splitlines()
    tokens = _MD.parse(markdown)
    tables: list[Table] = []
    pending: list[Block] = []
    path: dict[int, str] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 6
            text = tokens[i + 1].content if i + 1 < len(tokens) else ""
            path = {k: v for k, v in path.items() if k < level}
            path[level] = text
            pending.append(Block("heading", level, text))
        elif tok.type == "paragraph_open" and i + 1 < len(tokens):
            pending.append(Block("paragraph", 0, tokens[i + 1].content))
        elif tok.type == "html_block":
            pending.append(Block("html", 0, tok.content))
        elif tok.type == "table_open":
            table, i = _read_table(tokens, i, lines)
            table.before = pending
            table.headings = [path[k] for k in sorted(path)]
            tables.append(table)
            pending = []
            continue
        i += 1
    return tables


def _line_of(token: Token, lines: list[str]) -> str:
    if token.map and 0 <= token.map[0] < len(lines):
        return lines[token.map[0]].rstrip()
    return ""


def _read_table(tokens: list[Token], start: int, lines: list[str]) -> tuple[Table, int]:
    headers: list[str] = []
    rows: list[list[str]] = []
    row: list[str] = []
    in_head = False
    piped = False  # the header line ends with "|": every complete row does too
    separators = 0  # column separators on the header line
    complete = True
    i = start + 1
    while i < len(tokens) and tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
            line = _line_of(tok, lines)
            count = len(_SEPARATOR.findall(line))
            if in_head:
                piped, separators = line.endswith("|"), count
            complete = (not piped or line.endswith("|")) and count >= separators
        elif tok.type == "tr_close":
            if in_head:
                headers = row
            elif complete:
                rows.append(row)
        elif tok.type == "inline":
            row.append(tok.content.strip())
        i += 1
    return Table(headers, rows), i + 1


@dataclass(frozen=True, slots=True)
class Column:
    dim: str  # input_per_mtok, cached_input_per_mtok, cache_write_5m_per_mtok, ...
    variant: str | None = None  # batch when the header says so
    context: str = "short"  # short | long (OpenAI's short/long context columns)


def classify_header(header: str) -> Column | None:
    """What a price column holds, from its header words; None for non-price columns."""
    h = " ".join(header.lower().replace("&", " ").split())
    variant = "batch" if "batch" in h else None
    context = "long" if "long context" in h else "short"
    if "cache" in h and "write" in h:
        if re.search(r"\b(1h|1 ?hour|1-hour|60m)\b", h):
            return Column("cache_write_1h_per_mtok", variant, context)
        return Column("cache_write_5m_per_mtok", variant, context)
    if ("cache" in h and ("hit" in h or "read" in h)) or "cached input" in h:
        return Column("cached_input_per_mtok", variant, context)
    if "input" in h and "cache" not in h:
        return Column("input_per_mtok", variant, context)
    if "output" in h:
        return Column("output_per_mtok", variant, context)
    return None


def money(cell: str) -> Decimal | None:
    """USD per 1M tokens from a price cell; None for "not offered"; PriceValueError otherwise."""
    text = " ".join(cell.replace("\\", "").split()).strip()
    if text.lower() in NOT_OFFERED:
        return None
    if text.lower() == "free":
        return Decimal(0)
    match = _MONEY.match(text)
    if not match:
        raise _refused(text)
    return checked(to_decimal(match["amount"]))


def _refused(text: str) -> PriceValueError:
    """Why a cell is not a price: a negative, NaN or infinite amount by name, else its text."""
    message = f"not a per-1M-token price: {text[:60]!r}"
    bad = _BAD_MONEY.match(text)
    if bad and (bad["minus"] or bad["minus2"]):
        return PriceValueError(f"{message} (negative price)", "negative_price")
    if bad and not bad["amount"][-1].isdigit():
        return PriceValueError(f"{message} (not a finite number)", "not_finite")
    return PriceValueError(message, "not_a_price")


def block_text(blocks: list[Block]) -> str:
    return "\n".join(b.text for b in blocks)
