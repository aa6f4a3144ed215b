"""LiteLLM's ``model_prices_and_context_window.json`` -> price observations.

Key grammar read here (USD per token unless noted)::

    <dimension>[_above_<N>k_tokens][_<variant>]

    dimension  input_cost_per_token            -> input_per_mtok
               output_cost_per_token           -> output_per_mtok
               cache_read_input_token_cost     -> cached_input_per_mtok
               cache_creation_input_token_cost -> cache_write_5m_per_mtok
               cache_creation_input_token_cost_above_1hr -> cache_write_1h_per_mtok
               output_cost_per_reasoning_token -> reasoning_per_mtok
               input_cost_per_request / input_cost_per_query -> per_request (USD per request)
               input_cost_per_image            -> per_image (USD per image)
    _above_<N>k_tokens   tier: tier_min_prompt_tokens = N * 1000; missing keys inherit the base
    _batches / _priority / _flex  variant batch / priority / flex (others keep their own name)

Only models of the priced modes (:data:`PRICED_MODES`) are read; embeddings, image, audio,
rerank, moderation... and ``sample_spec`` are counted in :attr:`ParseResult.skipped`, not errors.
The provider is ``litellm_provider`` (canonicalised); the model id is the key without its
provider prefix. Where several keys land on one identity the unprefixed key wins over a prefixed
one, and a first-party entry over a re-hosted OpenRouter one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from collectors import http
from collectors.errors import TerminalSourceError
from collectors.prices import naming
from collectors.prices.common import (
    ParseResult,
    PriceValueError,
    best_ranked,
    checked,
    dedupe,
    load_json,
    looks_like_id,
    observation,
    per_token_to_mtok,
    short_json,
    skip,
    to_decimal,
)
from collectors.records import PriceObservation

SOURCE = "litellm"
URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"

PRICED_MODES = frozenset({"chat", "completion", "responses"})

_KEY = re.compile(
    r"^(?P<dim>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost(?:_above_1hr)?|output_cost_per_reasoning_token"
    r"|input_cost_per_request|input_cost_per_query|input_cost_per_image)"
    r"(?:_above_(?P<k>\d{1,5})k_tokens)?"
    r"(?:_(?P<variant>batches|priority|flex|ultrafast|balanced|decisions))?$"
)
DIMENSIONS = {
    "input_cost_per_token": "input_per_mtok",
    "output_cost_per_token": "output_per_mtok",
    "cache_read_input_token_cost": "cached_input_per_mtok",
    "cache_creation_input_token_cost": "cache_write_5m_per_mtok",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h_per_mtok",
    "output_cost_per_reasoning_token": "reasoning_per_mtok",
    "input_cost_per_request": "per_request",
    "input_cost_per_query": "per_request",
    "input_cost_per_image": "per_image",
}
UNIT_FIELDS = frozenset({"per_request", "per_image"})
VARIANTS = {"batches": "batch", "priority": "priority", "flex": "flex"}


def fetch(
    client: httpx.Client,
    *,
    validators: http.Validators | None = None,
    policy: http.RetryPolicy | None = None,
    url: str = URL,
) -> http.Fetched:
    """I/O only: the raw JSON map (or "unchanged")."""
    return http.get(client, url, source=SOURCE, validators=validators, policy=policy)


def parse(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> list[PriceObservation]:
    return parse_result(payload, observed_at, url=url).observations


def parse_result(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> ParseResult:
    doc = load_json(payload, SOURCE, url)
    if not isinstance(doc, dict) or not doc:
        raise TerminalSourceError(SOURCE, url, "not a JSON object of models; the format changed")
    result = ParseResult()
    ranked: list[tuple[int, PriceObservation]] = []
    for key, entry in doc.items():
        if key == "sample_spec":
            result.skipped["sample_spec"] += 1
            continue
        if not isinstance(entry, dict) or not key.strip():
            result.skipped["malformed_entry"] += 1
            continue
        mode = entry.get("mode")
        if not isinstance(mode, str) or mode not in PRICED_MODES:
            result.skipped[f"mode:{mode if isinstance(mode, str) else 'none'}"[:40]] += 1
            continue
        provider = entry.get("litellm_provider")
        if not looks_like_id(key) or (isinstance(provider, str) and not looks_like_id(provider)):
            result.skipped["not_a_model_id"] += 1
            continue
        rank, observations = _entry(key, entry, observed_at)
        ranked.extend((rank, o) for o in observations)
    if not ranked:
        raise TerminalSourceError(SOURCE, url, "no chat model could be read; the format changed")
    kept, shadowed = best_ranked(ranked)
    result.skipped["shadowed_by_canonical_key"] += shadowed
    result.observations = dedupe(kept)
    return result


def _identity(key: str, provider_raw: Any) -> tuple[int, naming.Canonical]:
    """(rank, identity): rank 0 = canonical unprefixed key, 1 = prefixed, 2 = re-hosted."""
    host = naming.canonical_provider(provider_raw if isinstance(provider_raw, str) else None)
    if host == "openrouter":
        return 2, naming.from_openrouter(key)
    head, slash, rest = key.partition("/")
    if slash and rest and (host is None or naming.canonical_provider(head) == host):
        provider = host or naming.canonical_provider(head) or "unknown"
        return 1, naming.Canonical(provider, naming.canonical_model(provider, rest))
    provider = host or "unknown"
    return 0, naming.Canonical(provider, naming.canonical_model(provider, key))


def _entry(
    key: str, entry: dict[str, Any], observed_at: datetime
) -> tuple[int, list[PriceObservation]]:
    rank, ident = _identity(key, entry.get("litellm_provider"))
    extra = {"source_model_id": key}
    if isinstance(entry.get("litellm_provider"), str):
        extra["litellm_provider"] = entry["litellm_provider"][:80]
    groups: dict[tuple[str, int], dict[str, Decimal | None]] = defaultdict(dict)
    raws: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    try:
        for name, value in entry.items():
            match = _KEY.match(name)
            if not match:
                continue
            field = DIMENSIONS[match["dim"]]
            variant = match["variant"] or "standard"
            group = (VARIANTS.get(variant, variant), int(match["k"] or 0) * 1000)
            if field in groups[group] and match["dim"] == "input_cost_per_query":
                continue  # a per-request fee wins over a per-query one
            groups[group][field] = _price(field, value)
            raws[group][name] = value
        hit = entry.get("input_cost_per_token_cache_hit")
        if hit is not None and "cached_input_per_mtok" not in groups[("standard", 0)]:
            groups[("standard", 0)]["cached_input_per_mtok"] = per_token_to_mtok(hit)
    except PriceValueError as exc:
        note = f"unusable price: {exc}"
        return rank, [_skip(ident, observed_at, note, entry, extra, reason=exc.reason)]
    base = groups.get(("standard", 0), {})
    if base.get("input_per_mtok") is None and base.get("output_per_mtok") is None:
        note = "no per-token input/output price in the map"
        return rank, [_skip(ident, observed_at, note, entry, extra)]
    out: list[PriceObservation] = []
    for (variant, tier), prices in sorted(groups.items()):
        if not any(v is not None for v in prices.values()):
            continue
        if tier:  # a tier lists only what changes; the rest is the variant's base price
            prices = {**groups.get((variant, 0), {}), **prices}
        out.append(
            observation(
                prices,
                source=SOURCE,
                observed_at=observed_at,
                provider=ident.provider,
                model_id=ident.model_id,
                variant=variant if ident.variant == "standard" else ident.variant,
                tier_min_prompt_tokens=tier,
                raw=short_json(raws[(variant, tier)]),
                extra=dict(extra),
            )
        )
    return rank, out


def _price(field: str, value: Any) -> Decimal | None:
    if field in UNIT_FIELDS:
        fee = checked(to_decimal(value), per_mtok=False)
        return fee if fee != 0 else None
    return per_token_to_mtok(value)


def _skip(
    ident: naming.Canonical,
    observed_at: datetime,
    note: str,
    entry: dict[str, Any],
    extra: dict[str, str],
    *,
    reason: str = "not_priced",
) -> PriceObservation:
    costs = {k: v for k, v in entry.items() if "cost" in k}
    return skip(
        SOURCE,
        observed_at,
        ident.provider,
        ident.model_id,
        note,
        raw=short_json(costs),
        extra=extra,
        variant=ident.variant,
        reason=reason,
    )
