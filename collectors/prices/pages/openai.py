"""OpenAI's pricing docs page (its Markdown twin) -> price observations.

Tables are found by their columns, not their place: any table with a ``Model`` column and
input/output price columns is a token price table. What each table means comes from the text
around it:

* the service tier is the nearest short label or heading since the previous table whose first
  word is ``Standard``, ``Batch``, ``Flex``, ``Priority`` or ``Fast`` (Fast mode is the renamed
  Priority tier -> variant ``priority``); none -> ``standard``;
* ``Short context ...`` / ``Long context ...`` columns: the long-context prices become a tier row
  from the threshold in the model cell (``gpt-5.5 (<272K context length)``); rows without a note
  use the threshold the other rows of the table (or page) agree on, and a long-context price with
  no threshold at all is skipped with a note;
* a ``Modality`` column: the ``Text`` row gives the token prices; audio/image rows go to ``extra``;
* a ``Training`` column marks fine-tuning tables: their rows price fine-tuned models
  (``ft:<base>``), never the base model;
* ``-`` = not offered (None), ``Free`` = 0; a cell in another unit (``/ 1M characters``,
  ``/ minute``) is skipped with a note; tables introduced as "Prices per second" are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from decimal import Decimal

import httpx

from collectors import http
from collectors.errors import TerminalSourceError
from collectors.prices.common import (
    ParseResult,
    PriceValueError,
    decode_text,
    dedupe,
    observation,
    skip,
)
from collectors.prices.pages._tables import Column, Table, classify_header, find_tables, money
from collectors.records import PriceObservation

SOURCE = "openai"
PROVIDER = "openai"
URL = "https://developers.openai.com/api/docs/pricing.md"

TIERS = {"standard": "standard", "batch": "batch", "flex": "flex", "priority": "priority"}
TIERS["fast"] = "priority"  # "Priority processing was renamed Fast mode on July 30, 2026"
_THRESHOLD = re.compile(r"<\s*(\d+(?:\.\d+)?)\s*([km])\b", re.I)
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,120}$")
_REMARK = re.compile(r"\(([^()]*)\)")


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
    tables = find_tables(decode_text(payload, SOURCE, url))
    result = ParseResult()
    priced = [t for t in tables if _is_token_table(t, result)]
    if not priced:
        raise TerminalSourceError(
            SOURCE, url, "no price table with Model, input and output columns; the page changed"
        )
    page_thresholds: Counter[int] = Counter()
    for table in priced:
        page_thresholds.update(_threshold_votes(table))
    for table in priced:
        result.observations.extend(_table(table, observed_at, page_thresholds))
    if not result.priced:
        raise TerminalSourceError(SOURCE, url, "price tables found but no price could be read")
    result.observations = dedupe(result.observations)
    return result


def _is_token_table(table: Table, result: ParseResult) -> bool:
    if table.column("model") is None:
        result.skipped["table_without_model_column"] += 1
        return False
    dims = {c.dim for c in map(classify_header, table.headers) if c is not None}
    if not dims & {"input_per_mtok", "output_per_mtok"}:
        result.skipped["table_without_token_prices"] += 1
        return False
    for block in table.before:
        text = block.text.lower()
        if text.startswith("prices per") and "token" not in text:
            result.skipped["table_not_per_token"] += 1
            return False
    return True


def _variant(table: Table) -> str:
    for block in reversed(table.before):
        words = block.text.lower().split()
        if 0 < len(words) <= 5 and words[0] in TIERS:
            return TIERS[words[0]]
    return "standard"


def _model_cell(cell: str) -> tuple[str, int | None, list[str]]:
    """``"gpt-5.5 (<272K context length)"`` -> ``("gpt-5.5", 272000, ["<272K context length"])``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell).replace("`", "").replace("*", "")
    remarks = _REMARK.findall(text)
    name = " ".join(_REMARK.sub(" ", text).split()).lower().replace(" ", "-")
    threshold = None
    for remark in remarks:
        match = _THRESHOLD.search(remark)
        if match and "context" in remark.lower():
            scale = 1000 if match[2].lower() == "k" else 1_000_000
            threshold = int(Decimal(match[1]) * scale)
    return name, threshold, [r.strip().lower() for r in remarks]


def _threshold_votes(table: Table) -> Counter[int]:
    col = table.column("model")
    assert col is not None
    return Counter(
        t for row in table.rows if len(row) > col and (t := _model_cell(row[col])[1]) is not None
    )


def _table(
    table: Table, observed_at: datetime, page_thresholds: Counter[int]
) -> list[PriceObservation]:
    model_col = table.column("model")
    modality_col = table.column("modality")
    fine_tuning = table.column("training") is not None
    assert model_col is not None
    variant = _variant(table)
    votes = _threshold_votes(table) or page_thresholds
    shared_threshold = next(iter(votes)) if len(votes) == 1 else None
    columns = [(i, classify_header(h)) for i, h in enumerate(table.headers)]
    out: list[PriceObservation] = []
    by_model: dict[str, list[list[str]]] = {}
    for row in table.rows:
        if len(row) > model_col and row[model_col].strip():
            by_model.setdefault(row[model_col], []).append(row)
    for cell, rows in by_model.items():
        name, threshold, remarks = _model_cell(cell)
        model_id = f"ft:{name}" if fine_tuning else name
        extra = {"source_model_id": cell[:200]}

        def skipped(
            note: str,
            model_id: str = model_id,
            extra: dict[str, str] = extra,
            reason: str = "not_priced",
        ) -> None:
            out.append(
                skip(
                    SOURCE,
                    observed_at,
                    PROVIDER,
                    model_id,
                    note,
                    extra=extra,
                    variant=variant,
                    reason=reason,
                )
            )

        if not _MODEL_ID.match(model_id):
            skipped(f"model cell {cell[:60]!r} is not a model id")
            continue
        if any("data sharing" in r for r in remarks):
            skipped("data-sharing discount price is not modelled")
            continue
        main = rows[0]
        if modality_col is not None:
            texts = [r for r in rows if len(r) > modality_col and r[modality_col].lower() == "text"]
            if not texts:
                skipped("no Text row: no token prices for text")
                continue
            main = texts[0]
            for other in rows:
                if other is not main and len(other) > modality_col:
                    _modality_extra(other, other[modality_col], columns, extra)
        try:
            short, long = _prices(main, columns)
        except PriceValueError as exc:
            skipped(f"unusable price: {exc}", reason=exc.reason)
            continue
        if not any(v is not None for v in short.values()):
            skipped("no price offered in this tier")
            continue
        raw = " | ".join(main)[:500]
        base = observation(
            short,
            source=SOURCE,
            observed_at=observed_at,
            provider=PROVIDER,
            model_id=model_id,
            variant=variant,
            raw=raw,
            extra=extra,
        )
        if any(v is not None for v in long.values()) and not (threshold or shared_threshold):
            # without the threshold long prompts would be priced short: not priced from here
            skipped("long-context prices without a context-length threshold; model not priced")
            continue
        out.append(base)
        if any(v is not None for v in long.values()):
            tier = threshold or shared_threshold
            assert tier is not None
            note = "" if threshold else f"threshold {tier} tokens taken from the other rows"
            out.append(
                observation(
                    long,
                    source=SOURCE,
                    observed_at=observed_at,
                    provider=PROVIDER,
                    model_id=model_id,
                    variant=variant,
                    tier_min_prompt_tokens=tier,
                    raw=raw,
                    note=note,
                    extra=dict(extra),
                )
            )
    return out


def _prices(
    row: list[str], columns: list[tuple[int, Column | None]]
) -> tuple[dict[str, Decimal | None], dict[str, Decimal | None]]:
    short: dict[str, Decimal | None] = {}
    long: dict[str, Decimal | None] = {}
    for i, col in columns:
        if col is None or i >= len(row) or col.variant:
            continue
        target = long if col.context == "long" else short
        target.setdefault(col.dim, money(row[i]))
    return short, long


def _modality_extra(
    row: list[str], modality: str, columns: list[tuple[int, Column | None]], extra: dict[str, str]
) -> None:
    label = re.sub(r"[^a-z0-9]+", "_", modality.lower()).strip("_") or "other"
    for i, col in columns:
        if col is None or i >= len(row):
            continue
        try:
            value = money(row[i])
        except PriceValueError:
            continue
        if value is not None:
            extra[f"{label}_{col.dim}"[:60]] = str(value)
