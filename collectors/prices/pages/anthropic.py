"""Anthropic's pricing docs page (Markdown/MDX source) -> price observations.

Tables are recognised by their columns, wherever they sit on the page:

* **model tables**: a ``Model`` column plus price columns (``Base Input Tokens``, ``5m Cache
  Writes``, ``1h Cache Writes``, ``Cache Hits & Refreshes``, ``Output Tokens``); a column whose
  header says ``Batch`` prices the ``batch`` variant. Rows whose model cell is not a Claude model
  name, and tables without price cells (tool token counts), are ignored;
* **the long-context table**: no ``Model`` column, headers ``≤ 200K input tokens`` /
  ``> 200K input tokens`` and cells ``Input: $6 / MTok``. The models it applies to are the Claude
  names in the text right before it; the threshold comes from the ``>`` header. Its cache prices
  are derived from the multipliers the page states ("1.25 times the base input tokens price"),
  and left out when the page states none.

Marketing names become API ids with :func:`naming.anthropic_model_id` ("Claude Sonnet 4.5" ->
``claude-sonnet-4-5``); ``([deprecated](...))`` remarks are dropped.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from collectors import http
from collectors.errors import TerminalSourceError
from collectors.prices import naming
from collectors.prices.common import (
    ParseResult,
    PriceValueError,
    decode_text,
    dedupe,
    observation,
    skip,
    unusable,
)
from collectors.prices.pages._tables import Table, block_text, classify_header, find_tables, money
from collectors.records import PriceObservation

SOURCE = "anthropic"
PROVIDER = "anthropic"
URL = "https://platform.claude.com/docs/en/about-claude/pricing.md"

_CLAUDE_NAME = re.compile(r"\b(?:Claude\s+)?(Opus|Sonnet|Haiku)\s+(\d+(?:\.\d+)?)\b")
_THRESHOLD = re.compile(r">\s*(\d+(?:\.\d+)?)\s*([KM])", re.I)
_LABELLED = re.compile(r"^\s*(input|output)\s*:\s*(.+)$", re.I)
_MULTIPLIER = re.compile(
    # "what" is bounded, and only lines that say "base input" are searched: an unbounded lazy
    # run made this quadratic on a long line (100,000 ">" took minutes)
    r"(?P<what>[^\n.]{0,200}?)(?:are|is|cost|costs)\s+(?P<x>\d+(?:\.\d+)?)\s*(?:times|x)\s+the\s+base\s+input",
    re.I,
)


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


def parse_result(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> ParseResult:
    text = decode_text(payload, SOURCE, url)
    result = ParseResult()
    multipliers = _cache_multipliers(text)
    for table in find_tables(text):
        if table.column("model") is not None:
            result.observations.extend(_model_table(table, observed_at, result))
        elif any(_THRESHOLD.search(h) for h in table.headers):
            result.observations.extend(_long_context(table, observed_at, multipliers))
        else:
            result.skipped["other_table"] += 1
    standard = [
        o for o in result.priced if o.variant == "standard" and not o.tier_min_prompt_tokens
    ]
    if not standard:
        raise TerminalSourceError(
            SOURCE, url, "no model price table (Model, input and output columns); the page changed"
        )
    result.observations = dedupe(result.observations)
    return result


def _model_table(
    table: Table, observed_at: datetime, result: ParseResult
) -> list[PriceObservation]:
    model_col = table.column("model")
    assert model_col is not None
    columns = [(i, classify_header(h)) for i, h in enumerate(table.headers)]
    if not any(c is not None for _, c in columns):
        result.skipped["table_without_prices"] += 1
        return []
    out: list[PriceObservation] = []
    for row in table.rows:
        if len(row) <= model_col:
            continue
        cell = row[model_col]
        model_id = naming.anthropic_model_id(cell)
        if model_id is None:
            result.skipped["not_a_model_row"] += 1
            continue
        extra = {"source_model_id": naming.clean_cell(cell)[:200]}
        by_variant: dict[str, dict[str, Decimal | None]] = {}
        try:
            for i, col in columns:
                if col is not None and i < len(row):
                    by_variant.setdefault(col.variant or "standard", {})[col.dim] = money(row[i])
        except PriceValueError as exc:
            out.append(unusable(SOURCE, observed_at, PROVIDER, model_id, exc, extra=extra))
            continue
        for variant, prices in by_variant.items():
            if not any(v is not None for v in prices.values()):
                note = "no price offered"
                out.append(
                    skip(
                        SOURCE, observed_at, PROVIDER, model_id, note, extra=extra, variant=variant
                    )
                )
                continue
            out.append(
                observation(
                    prices,
                    source=SOURCE,
                    observed_at=observed_at,
                    provider=PROVIDER,
                    model_id=model_id,
                    variant=variant,
                    raw=" | ".join(row)[:500],
                    extra=dict(extra),
                )
            )
    return out


def _cache_multipliers(text: str) -> dict[str, Decimal]:
    """``{"cache_write_5m_per_mtok": 1.25, ...}`` from sentences like "... are 1.25 times the base input"."""
    out: dict[str, Decimal] = {}
    lines = (line for line in text.splitlines() if "base input" in line.lower())
    for match in (m for line in lines for m in _MULTIPLIER.finditer(line)):
        what = match["what"].lower()
        factor = Decimal(match["x"])
        if "write" in what and re.search(r"1[- ]?h(our)?\b", what):
            out.setdefault("cache_write_1h_per_mtok", factor)
        elif "write" in what and re.search(r"5[- ]?m(inute)?\b", what):
            out.setdefault("cache_write_5m_per_mtok", factor)
        elif "read" in what or "hit" in what:
            out.setdefault("cached_input_per_mtok", factor)
    return out


def _long_context(
    table: Table, observed_at: datetime, multipliers: dict[str, Decimal]
) -> list[PriceObservation]:
    threshold = None
    long_col = None
    for i, header in enumerate(table.headers):
        match = _THRESHOLD.search(header)
        if match:
            scale = 1000 if match[2].upper() == "K" else 1_000_000
            threshold, long_col = int(Decimal(match[1]) * scale), i
    names = {
        naming.anthropic_model_id(f"Claude {family} {version}")
        for family, version in _CLAUDE_NAME.findall(block_text(table.before))
    }
    models = sorted(n for n in names if n)
    if threshold is None or long_col is None or not models:
        return []
    prices: dict[str, Decimal | None] = {}
    raws: list[str] = []
    try:
        for row in table.rows:
            if long_col < len(row) and (m := _LABELLED.match(row[long_col])):
                prices[f"{m[1].lower()}_per_mtok"] = money(m[2])
                raws.append(row[long_col])
    except PriceValueError as exc:
        return [
            unusable(SOURCE, observed_at, PROVIDER, m, exc, prefix="unusable long-context price")
            for m in models
        ]
    base_input = prices.get("input_per_mtok")
    if base_input is None or prices.get("output_per_mtok") is None:
        note = "long-context table without both an input and an output price; not applied"
        return [skip(SOURCE, observed_at, PROVIDER, m, note) for m in models]
    note = ""
    for dim, factor in multipliers.items():
        prices[dim] = base_input * factor
        note = "cache prices derived from the page's multipliers x the long-context input price"
    return [
        observation(
            prices,
            source=SOURCE,
            observed_at=observed_at,
            provider=PROVIDER,
            model_id=model,
            tier_min_prompt_tokens=threshold,
            raw=" | ".join(raws)[:500],
            note=note,
            extra={"source_model_id": model},
        )
        for model in models
    ]
