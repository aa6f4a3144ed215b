"""The bundled offline catalog: prices for common models with no network, from ``genai-prices``.

``genai-prices`` ships a dated snapshot of provider prices inside the package (``genai_prices.data``)
and a model-name matcher. This module never calls its auto-update (no network): it reads the
bundled snapshot only.

* :func:`parse_result` turns the snapshot into observations (source ``catalog``): a
  ``TieredPrices`` becomes one observation per tier, a start-date condition sets ``valid_from``,
  a time-of-day condition sets a window, and request variants (``processing=batch``,
  ``service_tier=flex|priority|fast``) become variants.
* :func:`match` exposes the matcher: a logged model name (and optional provider) -> the canonical
  identity of the catalog model it matches, in the same id space as the observations.

Identities follow :mod:`collectors.prices.naming`. genai-prices' ``openrouter`` entries that land on
a first-party identity are dropped in favour of the first-party entry; ``google`` entries for
Claude models are Vertex AI's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

from genai_prices import __version__ as GENAI_PRICES_VERSION
from genai_prices import types as gp
from genai_prices.data_snapshot import get_snapshot

from collectors.prices import naming
from collectors.prices.common import (
    ParseResult,
    PriceValueError,
    best_ranked,
    checked,
    dedupe,
    observation,
    unusable,
)
from collectors.records import PriceObservation

log = logging.getLogger(__name__)

SOURCE = "catalog"
VERSION = f"genai-prices {GENAI_PRICES_VERSION}"

FIELDS = {
    "input_mtok": "input_per_mtok",
    "cache_read_mtok": "cached_input_per_mtok",
    "cache_write_mtok": "cache_write_5m_per_mtok",
    "cache_write_1h_mtok": "cache_write_1h_per_mtok",
    "output_mtok": "output_per_mtok",
    "output_reasoning_mtok": "reasoning_per_mtok",
}
VARIANTS = {
    ("processing", "batch"): "batch",
    ("service_tier", "flex"): "flex",
    ("service_tier", "priority"): "priority",
    ("service_tier", "fast"): "priority",  # OpenAI renamed Priority to Fast mode
}


@dataclass(frozen=True, slots=True)
class CatalogMatch:
    provider: str
    model_id: str
    catalog_provider: str  # genai-prices' own provider id
    catalog_model: str  # genai-prices' own model id


def identity(provider_id: str, model_id: str) -> naming.Canonical:
    """Canonical identity of a genai-prices (provider, model)."""
    if provider_id == "openrouter":
        return naming.from_openrouter(model_id)
    if provider_id == "google" and model_id.startswith("claude"):
        return naming.Canonical("vertex_ai", model_id.lower())
    provider = naming.canonical_provider(provider_id) or provider_id
    return naming.Canonical(provider, naming.canonical_model(provider, model_id))


def parse(observed_at: datetime) -> list[PriceObservation]:
    return parse_result(observed_at).observations


def parse_result(observed_at: datetime) -> ParseResult:
    """Observations for every model of the bundled snapshot."""
    result = ParseResult()
    ranked: list[tuple[int, PriceObservation]] = []
    for provider in get_snapshot().providers:
        rank = 1 if provider.id == "openrouter" else 0
        for model in provider.models:
            ident = identity(provider.id, model.id)
            extra = {"source_model_id": f"{provider.id}/{model.id}", "catalog": VERSION}
            try:
                observations = _model(model, ident, observed_at, extra)
            except PriceValueError as exc:
                observations = [
                    unusable(
                        SOURCE,
                        observed_at,
                        ident.provider,
                        ident.model_id,
                        exc,
                        prefix="unusable catalog price",
                        extra=extra,
                    )
                ]
            ranked.extend((rank, o) for o in observations)
    kept, shadowed = best_ranked(ranked)
    result.skipped["shadowed_by_first_party"] += shadowed
    result.observations = dedupe(kept)
    return result


def _price_dims(price: gp.ModelPrice, extra: dict[str, str]) -> dict[str, Any]:
    """Field -> Decimal or TieredPrices for one ModelPrice (unknown units go to ``extra``)."""
    out: dict[str, Any] = {}
    for key, value in vars(price).items():
        if value is None or key.startswith("_"):
            continue
        if key in FIELDS:
            out[FIELDS[key]] = value
        elif key == "requests_kcount" and isinstance(value, Decimal):
            out["per_request"] = checked(value / 1000, per_mtok=False)
        elif isinstance(value, Decimal):
            extra[key[:40]] = str(value)
    return out


def _tiers(dims: dict[str, Any]) -> dict[int, dict[str, Decimal]]:
    """Tier start -> flat prices; tier 0 is the base. A tier applies to all tokens (cliff)."""
    starts = {0} | {
        t.start for v in dims.values() if isinstance(v, gp.TieredPrices) for t in v.tiers
    }
    out: dict[int, dict[str, Decimal]] = {}
    for start in sorted(starts):
        flat: dict[str, Decimal] = {}
        for field, value in dims.items():
            if isinstance(value, gp.TieredPrices):
                price = value.base
                for tier in value.tiers:
                    if tier.start <= start:
                        price = tier.price
                flat[field] = checked(price, per_mtok=field != "per_request")
            elif isinstance(value, Decimal):
                flat[field] = checked(value, per_mtok=field != "per_request")
        out[start] = flat
    return out


def _utc(value: time) -> time:
    if value.tzinfo is None:
        return value
    return datetime.combine(date(2000, 1, 3), value).astimezone(UTC).time()


def _model(
    model: gp.ModelInfo, ident: naming.Canonical, observed_at: datetime, extra: dict[str, str]
) -> list[PriceObservation]:
    conditional = (
        [gp.ConditionalPrice(prices=model.prices)]
        if isinstance(model.prices, gp.ModelPrice)
        else list(model.prices)
    )
    base_dims: dict[str, Any] = {}
    out: list[PriceObservation] = []
    for cond in conditional:
        dims = _price_dims(cond.prices, extra)
        if cond.constraint is None and not base_dims:
            base_dims = dims
        out.extend(_emit(dims, cond.constraint, ident, ident.variant, observed_at, extra))
    for variant in model.price_variants or []:
        name = next((VARIANTS[k] for k in variant.when.items() if k in VARIANTS), None)
        if name is None:
            continue
        dims = {**base_dims, **_price_dims(variant.prices, {})}
        out.extend(_emit(dims, variant.constraint, ident, name, observed_at, extra))
    return out


def _emit(
    dims: dict[str, Any],
    constraint: object,
    ident: naming.Canonical,
    variant: str,
    observed_at: datetime,
    extra: dict[str, str],
) -> list[PriceObservation]:
    valid_from = None
    window: tuple[time | None, time | None] = (None, None)
    if isinstance(constraint, gp.StartDateConstraint):
        valid_from = datetime.combine(constraint.start_date, time(0), tzinfo=UTC)
    elif isinstance(constraint, gp.TimeOfDateConstraint):
        window = (_utc(constraint.start_time), _utc(constraint.end_time))
    out = []
    for tier, prices in _tiers(dims).items():
        if not prices:
            continue
        out.append(
            observation(
                prices,
                source=SOURCE,
                observed_at=observed_at,
                provider=ident.provider,
                model_id=ident.model_id,
                variant=variant,
                tier_min_prompt_tokens=tier,
                window_start_utc=window[0],
                window_end_utc=window[1],
                valid_from=valid_from,
                raw=", ".join(f"{k}={v}" for k, v in sorted(prices.items()))[:500],
                extra=dict(extra),
            )
        )
    return out


@cache
def _owner_index() -> dict[int, str]:
    """id(ModelInfo) -> the genai provider whose list holds it (fallback models keep their owner)."""
    return {id(m): p.id for p in get_snapshot().providers for m in p.models}


def match(logged_model: str, provider: str | None = None) -> CatalogMatch | None:
    """The catalog model genai-prices' matcher finds for a logged name, or None."""
    snapshot = get_snapshot()
    attempts = [provider, None] if provider else [None]
    for provider_id in attempts:
        try:
            found_provider, model = snapshot.find_provider_model(
                logged_model, None, provider_id, None
            )
        except (LookupError, ValueError):
            continue
        owner = _owner_index().get(id(model), found_provider.id)
        ident = identity(owner, model.id)
        return CatalogMatch(ident.provider, ident.model_id, owner, model.id)
    return None
