"""DeepSeek's pricing page (static Docusaurus HTML) -> price observations.

The page has one transposed table: models are columns, price types are rows, with ``rowspan`` /
``colspan`` label cells and ``OFF-PEAK`` / ``PEAK`` sub-rows. The table is rebuilt as a grid,
then read by labels:

* the model row is the row labelled ``MODEL``; its cells are the API model ids, each with a
  footnote mark ``(n)``;
* a price row is one whose label says ``1M ... TOKENS``: ``INPUT ... CACHE HIT`` is the cached
  input price, ``INPUT ... CACHE MISS`` (or plain input) the input price, ``OUTPUT`` the output
  price; ``PEAK`` / ``OFF-PEAK`` in the label picks the period;
* the peak schedule comes from the footnote that mentions peak hours ("Peak hours are 01:00 -
  04:00 and 06:00 - 10:00 UTC, Monday through Friday"); it must say UTC.

Time-of-day convention (the SQL layer relies on it): the off-peak price is emitted without a
window (it is the default), and every peak window is its own observation with
``window_start_utc``/``window_end_utc`` and ``weekdays_only``; a windowed price takes precedence
over the unwindowed one whenever the attempt falls inside its window.

Legacy names listed in a model's footnote ("The legacy names ``deepseek-v4-flash`` ... are still
accepted ... billed at the Flash price") get the same prices with ``match_rule="alias"``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import httpx
from selectolax.lexbor import LexborHTMLParser, LexborNode

from collectors import http
from collectors.errors import TerminalSourceError
from collectors.prices.common import (
    ParseResult,
    PriceValueError,
    decode_text,
    dedupe,
    observation,
    skip,
    unusable,
)
from collectors.prices.pages._tables import money
from collectors.records import PriceObservation

SOURCE = "deepseek"
PROVIDER = "deepseek"
URL = "https://api-docs.deepseek.com/quick_start/pricing"

_REF = re.compile(r"\((\d{1,2})\)")
_RANGE = re.compile(r"\b(\d{1,2}):(\d{2})\s*(?:-|–|—|to|~)\s*(\d{1,2}):(\d{2})\b")
_WEEKDAYS = re.compile(r"monday\s+(?:through|to|-|–)\s+friday|weekdays", re.I)
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]{1,80}$")
_ALIAS_HINT = re.compile(r"legacy|alias|still accepted|billed at", re.I)
MAX_CELLS = 10_000
# The HTML tree builder slows down with the square of the nesting depth (100,000 nested <div>
# take over a minute). The real page has under a thousand tags; a page with more than this many
# is refused before it is parsed.
MAX_TAGS = 30_000


def fetch(
    client: httpx.Client,
    *,
    validators: http.Validators | None = None,
    policy: http.RetryPolicy | None = None,
    url: str = URL,
) -> http.Fetched:
    return http.get(client, url, source=SOURCE, validators=validators, policy=policy)


def parse(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> list[PriceObservation]:
    return parse_result(payload, observed_at, url=url).observations


def _text(node: LexborNode) -> str:
    return " ".join((node.text(deep=True, separator=" ") or "").split())


def _grid(table: LexborNode) -> list[list[str]]:
    """The table as a rectangular grid of cell texts, rowspan/colspan expanded."""
    grid: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(table.css("tr")):
        c = 0
        for cell in tr.iter():
            if cell.tag not in ("td", "th"):
                continue
            while (r, c) in grid:
                c += 1
            text = _text(cell)
            rows = _span(cell.attributes.get("rowspan"))
            cols = _span(cell.attributes.get("colspan"))
            for dr in range(rows):
                for dc in range(cols):
                    grid[(r + dr, c + dc)] = text
            c += cols
            if len(grid) > MAX_CELLS:
                return []
    if not grid:
        return []
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    return [[grid.get((r, c), "") for c in range(width)] for r in range(height)]


def _span(value: str | None) -> int:
    return min(int(value), 50) if value and value.strip().isdigit() and int(value) > 0 else 1


def _price_table(tree: LexborHTMLParser) -> tuple[list[list[str]], int] | None:
    for table in tree.css("table"):
        grid = _grid(table)
        for row in grid:
            if row and row[0].strip().upper() == "MODEL":
                first_model = next((i for i, t in enumerate(row) if t != row[0]), None)
                if first_model is not None:
                    return grid, first_model
    return None


def _footnotes(tree: LexborHTMLParser) -> dict[str, tuple[str, list[str]]]:
    """``{"3": (text, [code, ...])}`` from paragraphs that start with ``(n)``."""
    notes: dict[str, tuple[str, list[str]]] = {}
    for p in tree.css("p"):
        text = _text(p)
        match = re.match(r"^\((\d{1,2})\)\s*", text)
        if match:
            codes = [_text(code) for code in p.css("code")]
            notes.setdefault(match[1], (text, codes))
    return notes


def _peak_windows(
    notes: dict[str, tuple[str, list[str]]], url: str
) -> tuple[list[tuple[time, time]], bool]:
    for text, _ in notes.values():
        if not re.search(r"\bpeak hours\b", text, re.I):
            continue
        windows = [
            (time(int(a) % 24, int(b)), time(int(c) % 24, int(d)))
            for a, b, c, d in _RANGE.findall(text)
            if int(b) < 60 and int(d) < 60 and int(a) <= 24 and int(c) <= 24
        ]
        if not windows:
            continue
        if "UTC" not in text:
            raise TerminalSourceError(SOURCE, url, f"peak hours not given in UTC: {text[:120]!r}")
        if not text.rstrip().endswith((".", ")", "。")):  # a cut-off note may have lost its days
            raise TerminalSourceError(SOURCE, url, f"peak-hours note is incomplete: {text[-80:]!r}")
        return windows, bool(_WEEKDAYS.search(text))
    raise TerminalSourceError(SOURCE, url, "the page has PEAK prices but no readable peak schedule")


def _dimension(label: str) -> str | None:
    label = label.upper()
    if "TOKENS" not in label:
        return None
    if "OUTPUT" in label:
        return "output_per_mtok"
    if "INPUT" in label and "CACHE HIT" in label:
        return "cached_input_per_mtok"
    if "INPUT" in label:
        return "input_per_mtok"
    return None


def _period(label: str) -> str:
    upper = label.upper()
    if "OFF-PEAK" in upper or "OFF PEAK" in upper or "OFFPEAK" in upper:
        return "off_peak"
    if re.search(r"\bPEAK\b", upper):
        return "peak"
    return "all"


def parse_result(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> ParseResult:
    text = decode_text(payload, SOURCE, url)
    tags = text.count("<")
    if tags > MAX_TAGS:
        raise TerminalSourceError(
            SOURCE, url, f"{tags:,} tags, over the {MAX_TAGS:,} a pricing page has; refused"
        )
    tree = LexborHTMLParser(text)
    found = _price_table(tree)
    if found is None:
        raise TerminalSourceError(
            SOURCE, url, "no pricing table with a MODEL row; the page changed"
        )
    grid, first_model = found
    model_row = next(row for row in grid if row[0].strip().upper() == "MODEL")
    models: dict[int, tuple[str, list[str]]] = {}
    for col in range(first_model, len(model_row)):
        cell = model_row[col]
        name = _REF.sub("", cell).strip().lower()
        if name:
            models[col] = (name, _REF.findall(cell))
    prices: dict[tuple[int, str], dict[str, str]] = {}  # (column, period) -> dim -> cell text
    for row in grid:
        label = " ".join(dict.fromkeys(row[:first_model]))
        dim = _dimension(label)
        if dim is None:
            continue
        period = _period(label)
        for col in models:
            if col < len(row):
                prices.setdefault((col, period), {})[dim] = row[col]
    if not prices:
        raise TerminalSourceError(SOURCE, url, "pricing table has no '1M ... TOKENS' price rows")
    notes = _footnotes(tree)
    has_peak = any(period == "peak" for _, period in prices)
    if not has_peak and any(period == "off_peak" for _, period in prices):
        raise TerminalSourceError(SOURCE, url, "OFF-PEAK prices without PEAK prices; page cut off?")
    windows, weekdays = _peak_windows(notes, url) if has_peak else ([], False)
    result = ParseResult()
    for col, (model_id, refs) in models.items():
        extra = {"source_model_id": model_id}
        if not _MODEL_ID.match(model_id):
            result.observations.append(
                skip(SOURCE, observed_at, PROVIDER, model_id[:80], "model cell is not a model id")
            )
            continue
        observations = _model_prices(col, model_id, prices, windows, weekdays, observed_at, extra)
        result.observations.extend(observations)
        for ref in refs:
            text, codes = notes.get(ref, ("", []))
            if not _ALIAS_HINT.search(text):
                continue
            for alias in dict.fromkeys(c.strip().lower() for c in codes):
                if alias != model_id and _MODEL_ID.match(alias):
                    result.observations.extend(
                        replace(
                            o,
                            model_id=alias,
                            match_rule="alias",
                            extra={**o.extra, "alias_of": model_id},
                        )
                        for o in observations
                    )
    if not result.priced:
        raise TerminalSourceError(SOURCE, url, "pricing table found but no price could be read")
    result.observations = dedupe(result.observations)
    return result


def _model_prices(
    col: int,
    model_id: str,
    prices: dict[tuple[int, str], dict[str, str]],
    windows: list[tuple[time, time]],
    weekdays: bool,
    observed_at: datetime,
    extra: dict[str, str],
) -> list[PriceObservation]:
    def read(period: str) -> dict[str, Decimal | None]:
        return {dim: money(text) for dim, text in prices.get((col, period), {}).items()}

    try:
        default = read("off_peak") or read("all")
        peak = read("peak")
    except PriceValueError as exc:
        return [unusable(SOURCE, observed_at, PROVIDER, model_id, exc, extra=extra)]
    if not any(v is not None for v in default.values()):
        return [skip(SOURCE, observed_at, PROVIDER, model_id, "no price offered", extra=extra)]
    for prices_of_period in (default, peak) if peak else (default,):
        if (
            prices_of_period.get("input_per_mtok") is None
            or prices_of_period.get("output_per_mtok") is None
        ):
            note = "input or output price missing; not priced from this page"
            return [skip(SOURCE, observed_at, PROVIDER, model_id, note, extra=extra)]
    raw = "; ".join(
        f"{p}:{d}={t}" for (c, p), dims in prices.items() if c == col for d, t in dims.items()
    )
    base = observation(
        default,
        source=SOURCE,
        observed_at=observed_at,
        provider=PROVIDER,
        model_id=model_id,
        raw=raw[:500],
        extra={**extra, "period": "off_peak" if peak else "all"},
    )
    out = [base]
    if any(v is not None for v in peak.values()):
        for start, end in windows:
            fields: dict[str, Any] = {**peak, "extra": {**extra, "period": "peak"}}
            out.append(
                replace(
                    base,
                    window_start_utc=start,
                    window_end_utc=end,
                    weekdays_only=weekdays,
                    **fields,
                )
            )
    return out
