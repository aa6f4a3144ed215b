"""OpenRouter's model list (``GET /api/v1/models``) -> price observations.

Two response formats exist and both parse:

* **dense** (2025): every model carries exactly ``prompt``, ``completion``, ``image`` and
  ``request``, zeros written out as ``"0"``;
* **sparse** (2026): zero-priced keys are left out, plus ``input_cache_read``,
  ``input_cache_write`` (5 minutes), ``input_cache_write_1h``, ``internal_reasoning``,
  ``web_search``, audio keys and an ``overrides`` list (long-context tiers with
  ``min_prompt_tokens``; time-of-day prices with ``utc_start``/``utc_end`` as ``HHMM``).

Decisions (documented because the API does not say):

* Token prices are USD per token as decimal strings; they become USD per 1M tokens by an exact
  exponent shift. ``request``, ``image`` and ``web_search`` are USD per unit, kept as they are.
* In the sparse format a missing ``prompt``/``completion`` means 0 (OpenRouter omits zero keys);
  a model whose ``pricing`` is empty is skipped instead. A missing optional key (cache, reasoning,
  request, image) means "not charged separately": ``None``. An explicit ``"0"`` for a per-request
  or per-image fee is also ``None`` so the two formats compare equal; an explicit ``"0"`` token
  price is a real $0 (``:free`` variants are real free prices).
* ``-1`` is OpenRouter's "decided at request time" (routers like ``openrouter/auto``): skipped
  with a note.
* An override's missing keys inherit the model's base price. An override with a condition this
  parser does not know is skipped with a note rather than applied wrongly.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import httpx

from collectors import http
from collectors.errors import TerminalSourceError
from collectors.prices import naming
from collectors.prices.common import (
    ParseResult,
    PriceValueError,
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

log = logging.getLogger(__name__)

SOURCE = "openrouter"
URL = "https://openrouter.ai/api/v1/models"

TOKEN_FIELDS = {
    "prompt": "input_per_mtok",
    "completion": "output_per_mtok",
    "input_cache_read": "cached_input_per_mtok",
    "input_cache_write": "cache_write_5m_per_mtok",
    "input_cache_write_1h": "cache_write_1h_per_mtok",
    "internal_reasoning": "reasoning_per_mtok",
}
UNIT_FIELDS = {"request": "per_request", "image": "per_image"}
EXTRA_TOKEN_KEYS = ("audio", "input_audio_cache", "image_output", "audio_output")
EXTRA_UNIT_KEYS = ("web_search",)
CONDITION_KEYS = {"min_prompt_tokens", "utc_start", "utc_end"}


def fetch(
    client: httpx.Client,
    *,
    validators: http.Validators | None = None,
    policy: http.RetryPolicy | None = None,
    url: str = URL,
) -> http.Fetched:
    """I/O only: the raw body of the model list (or "unchanged")."""
    return http.get(client, url, source=SOURCE, validators=validators, policy=policy)


def parse(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> list[PriceObservation]:
    return parse_result(payload, observed_at, url=url).observations


def parse_result(payload: bytes | str, observed_at: datetime, *, url: str = URL) -> ParseResult:
    doc = load_json(payload, SOURCE, url)
    models = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(models, list) or not models:
        raise TerminalSourceError(SOURCE, url, "no 'data' list of models; the API format changed")
    sparse = any(_is_sparse(m) for m in models)
    result = ParseResult()
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str) or not model["id"]:
            result.skipped["malformed_entry"] += 1
            continue
        if not looks_like_id(model["id"]):
            result.skipped["not_a_model_id"] += 1
            continue
        result.observations.extend(_model(model, observed_at, sparse))
    if not result.observations:
        raise TerminalSourceError(SOURCE, url, "no model could be read; the API format changed")
    result.observations = dedupe(result.observations)
    return result


def _is_sparse(model: Any) -> bool:
    if not isinstance(model, dict):
        return False
    pricing = model.get("pricing")
    if "canonical_slug" in model:
        return True
    # the dense format writes every key out, zeros included; only the sparse one drops them
    return isinstance(pricing, dict) and not {"image", "request"} <= set(pricing)


def _model(model: dict[str, Any], observed_at: datetime, sparse: bool) -> list[PriceObservation]:
    source_id: str = model["id"][:300]
    ident = naming.from_openrouter(source_id)
    extra = {"source_model_id": source_id}
    alias = model.get("alias_target")
    if isinstance(alias, dict) and isinstance(alias.get("slug"), str):
        extra["alias_target"] = alias["slug"][:300]
    pricing = model.get("pricing")

    def skipped(note: str, reason: str = "not_priced") -> PriceObservation:
        return skip(
            SOURCE,
            observed_at,
            ident.provider,
            ident.model_id,
            note,
            raw=short_json(pricing),
            extra=extra,
            variant=ident.variant,
            reason=reason,
        )

    if not isinstance(pricing, dict) or not pricing:
        return [skipped("no pricing listed")]
    if any(_is_dynamic(v) for k, v in pricing.items() if k != "overrides"):
        return [
            skipped("dynamic price (-1): the router decides the model, and its price, per request")
        ]
    try:
        base = _prices(pricing, sparse=sparse, inherit=None, model_extra=extra)
    except PriceValueError as exc:
        return [skipped(f"unusable price: {exc}", exc.reason)]
    first = observation(
        base,
        source=SOURCE,
        observed_at=observed_at,
        provider=ident.provider,
        model_id=ident.model_id,
        variant=ident.variant,
        raw=short_json({k: v for k, v in pricing.items() if k != "overrides"}),
        extra=extra,
    )
    overrides = pricing.get("overrides")
    if overrides is None:
        return [first]
    out = [first]
    for override in overrides if isinstance(overrides, list) else [overrides]:
        tiered = _override(first, override, base, extra)
        if isinstance(tiered, tuple):  # one unreadable tier would misprice long prompts: skip all
            why, reason = tiered
            return [skipped(f"{why}; model not priced from this source", reason)]
        out.append(tiered)
    return out


def _override(
    first: PriceObservation,
    override: Any,
    base: dict[str, Any],
    extra: dict[str, str],
) -> PriceObservation | tuple[str, str]:
    """The tier/window observation of one override, or why it cannot be applied (the words and
    the reason's name)."""
    if not isinstance(override, dict):
        return "override is not an object", "not_priced"
    known = CONDITION_KEYS | set(TOKEN_FIELDS) | set(UNIT_FIELDS)
    known |= set(EXTRA_TOKEN_KEYS) | set(EXTRA_UNIT_KEYS)
    unknown = sorted(str(k) for k in set(override) - known)
    if unknown:
        return f"override with unknown keys {unknown[:5]}", "not_priced"
    if any(_is_dynamic(v) for v in override.values()):
        return "dynamic (-1) price in an override", "not_priced"
    try:
        prices = _prices(override, sparse=True, inherit=base, model_extra=extra)
        tier = _tier(override.get("min_prompt_tokens"))
        window = _window(override.get("utc_start"), override.get("utc_end"))
    except PriceValueError as exc:
        return f"unusable override: {exc}", exc.reason
    if tier == 0 and window is None:
        return "override without a condition", "not_priced"
    start, end = window or (None, None)
    fields: dict[str, Any] = {**prices, "raw": short_json(override)}
    return replace(
        first, tier_min_prompt_tokens=tier, window_start_utc=start, window_end_utc=end, **fields
    )


def _is_dynamic(value: Any) -> bool:
    try:
        return to_decimal(value) == -1
    except PriceValueError:
        return False


def _prices(
    pricing: dict[str, Any],
    *,
    sparse: bool,
    inherit: dict[str, Any] | None,
    model_extra: dict[str, str],
) -> dict[str, Any]:
    """PriceObservation keyword arguments from one pricing object (or one override)."""
    out: dict[str, Any] = dict(inherit or {})
    for key, field in TOKEN_FIELDS.items():
        if key in pricing:
            out[field] = per_token_to_mtok(pricing[key])
        elif inherit is None and key in ("prompt", "completion"):
            if not sparse:
                raise PriceValueError(f"'{key}' missing from a dense-format price")
            out[field] = Decimal(0)  # sparse format: zero keys are left out
    for key, field in UNIT_FIELDS.items():
        if key in pricing:
            value = checked(to_decimal(pricing[key]), per_mtok=False)
            out[field] = value if value != 0 else None
    for key in EXTRA_TOKEN_KEYS:
        if key in pricing:
            model_extra[f"{key}_per_mtok"] = str(per_token_to_mtok(pricing[key]))
    for key in EXTRA_UNIT_KEYS:
        if key in pricing:
            model_extra[f"{key}_per_unit"] = str(checked(to_decimal(pricing[key]), per_mtok=False))
    return out


def _tier(value: Any) -> int:
    if value is None:
        return 0
    number = to_decimal(value)
    if number < 0 or number != number.to_integral_value() or number > 100_000_000:
        raise PriceValueError(f"bad min_prompt_tokens {value!r}")
    return int(number)


def _hhmm(value: Any) -> time:
    number = to_decimal(value)
    if number != number.to_integral_value() or not 0 <= number <= 2400:
        raise PriceValueError(f"bad HHMM time {value!r}")
    hours, minutes = divmod(int(number), 100)
    if minutes >= 60:
        raise PriceValueError(f"bad HHMM time {value!r}")
    return time(hours % 24, minutes)


def _window(start: Any, end: Any) -> tuple[time, time] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise PriceValueError("time window needs both utc_start and utc_end")
    return _hhmm(start), _hhmm(end)
