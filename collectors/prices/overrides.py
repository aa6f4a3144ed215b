"""Manual price overrides from a YAML file: negotiated discounts and your own prices.

Example (``<home>/price_overrides.yaml``, the ``prices.overrides`` setting)::

    discounts:                       # percent off whatever list price applies
      - provider: anthropic          # every Anthropic model
        percent: 15
        valid_from: 2025-01-01       # optional: from this date (UTC midnight)
      - provider: openai
        model: gpt-4o-mini           # one model
        percent: 25
    prices:                          # your own prices, USD per 1M tokens (per request / image: USD)
      - provider: selfhosted
        model: llama-3.3-70b
        input_per_mtok: 0.10
        output_per_mtok: 0.20
        cached_input_per_mtok: 0.05  # optional: any price field of PriceObservation
        variant: standard            # optional: standard | batch | priority | flex
        tier_min_prompt_tokens: 0    # optional
        valid_from: 2025-06-01       # optional

Every observation has source ``override`` (highest precedence). A discount is an observation
with ``discount_pct`` and no prices; a provider-wide discount has model id ``*``. Anything
malformed (unknown key, negative price, percent outside 0-100, bad date) raises
:class:`ConfigError` naming the file, the key and what was expected: an override is never
half-applied.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from collectors import yamlguard
from collectors.errors import ConfigError
from collectors.prices import naming
from collectors.prices.common import (
    PRICE_FIELDS,
    PriceValueError,
    checked,
    identity,
    observation,
    to_decimal,
)
from collectors.records import PriceObservation

SOURCE = "override"
ANY_MODEL = "*"
VARIANTS = ("standard", "batch", "priority", "flex")
_COMMON_KEYS = {"provider", "model", "valid_from", "note"}
DISCOUNT_KEYS = _COMMON_KEYS | {"percent"}
PRICE_KEYS = _COMMON_KEYS | set(PRICE_FIELDS) | {"variant", "tier_min_prompt_tokens"}


def load(path: Path, observed_at: datetime) -> list[PriceObservation]:
    """Observations from the overrides file at ``path``; none when the file does not exist."""
    if not path.exists():
        return []
    try:
        text = yamlguard.read_text(path)  # a regular file only, never more than the limit
    except yamlguard.YamlLimitError as exc:
        raise ConfigError(str(path), "(file)", "a YAML document within limits", str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "(file)", "a readable UTF-8 YAML file", str(exc)) from exc
    return parse(text, observed_at, file=str(path))


def parse(
    text: str, observed_at: datetime, *, file: str = "overrides.yaml"
) -> list[PriceObservation]:
    try:
        yamlguard.check(text)
        doc = YAML(typ="safe", pure=True).load(text)
    except yamlguard.YamlLimitError as exc:
        line = f"line {exc.line}: " if exc.line else ""
        raise ConfigError(
            file, "(document)", "a YAML document within limits", f"{line}{exc}"
        ) from exc
    except (YAMLError, ValueError, RecursionError) as exc:
        problem = " ".join(str(exc).split())[:200]
        raise ConfigError(file, "(document)", "valid YAML", problem) from exc
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise ConfigError(
            file, "(document)", "a mapping with 'discounts' and/or 'prices'", type(doc).__name__
        )
    unknown = sorted(str(k) for k in doc if k not in ("discounts", "prices"))
    if unknown:
        raise ConfigError(file, unknown[0], "only 'discounts' and 'prices' at the top level")
    out: list[PriceObservation] = []
    seen: dict[tuple[object, ...], str] = {}
    entries = [
        *(("discounts", i, e) for i, e in enumerate(_list(doc, "discounts", file))),
        *(("prices", i, e) for i, e in enumerate(_list(doc, "prices", file))),
    ]
    for section, i, entry in entries:
        where = f"{section}[{i}]"
        read = _discount if section == "discounts" else _price
        obs = read(entry, where, observed_at, file)
        key = (section, *identity(obs))
        if key in seen:
            raise ConfigError(
                file, where, f"one entry per provider, model, variant, tier and date ({seen[key]})"
            )
        seen[key] = where
        out.append(obs)
    return out


def _list(doc: dict[str, Any], key: str, file: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(file, key, "a list of entries", type(value).__name__)
    return value


def _entry(entry: Any, where: str, allowed: set[str], file: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(file, where, "a mapping", type(entry).__name__)
    unknown = sorted(str(k) for k in entry if k not in allowed)
    if unknown:
        raise ConfigError(file, f"{where}.{unknown[0]}", f"one of {', '.join(sorted(allowed))}")
    return entry


def _text(entry: dict[str, Any], key: str, where: str, file: str, *, required: bool) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(file, f"{where}.{key}", "a non-empty string")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ConfigError(file, f"{where}.{key}", "a non-empty string", value)
    return str(value).strip()


def _valid_from(entry: dict[str, Any], where: str, file: str) -> datetime | None:
    value = entry.get("valid_from")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ConfigError(file, f"{where}.valid_from", "a date (YYYY-MM-DD) or ISO datetime", value)


def _identity(
    entry: dict[str, Any], where: str, file: str, *, model_required: bool
) -> tuple[str, str]:
    provider_text = _text(entry, "provider", where, file, required=True)
    provider = naming.canonical_provider(provider_text) or ""
    model = _text(entry, "model", where, file, required=model_required)
    return provider, naming.canonical_model(provider, model) if model else ANY_MODEL


def _discount(entry: Any, where: str, observed_at: datetime, file: str) -> PriceObservation:
    entry = _entry(entry, where, DISCOUNT_KEYS, file)
    provider, model = _identity(entry, where, file, model_required=False)
    try:
        percent = to_decimal(entry.get("percent"))
    except PriceValueError as exc:
        raise ConfigError(
            file, f"{where}.percent", "a number from 0 to 100", entry.get("percent")
        ) from exc
    if not Decimal(0) <= percent <= Decimal(100):
        raise ConfigError(file, f"{where}.percent", "a number from 0 to 100", entry.get("percent"))
    return PriceObservation(
        source=SOURCE,
        observed_at=observed_at,
        provider=provider,
        model_id=model,
        discount_pct=percent,
        valid_from=_valid_from(entry, where, file),
        note=_text(entry, "note", where, file, required=False) or "",
        raw=f"{where}: {dict(entry)}"[:500],
        extra={"source_model_id": model, "file": file},
    )


def _price(entry: Any, where: str, observed_at: datetime, file: str) -> PriceObservation:
    entry = _entry(entry, where, PRICE_KEYS, file)
    provider, model = _identity(entry, where, file, model_required=True)
    prices: dict[str, Decimal] = {}
    for field in PRICE_FIELDS:
        if entry.get(field) is None:
            continue
        try:
            prices[field] = checked(
                to_decimal(entry[field]), per_mtok=field not in ("per_request", "per_image")
            )
        except PriceValueError as exc:
            raise ConfigError(
                file, f"{where}.{field}", f"a price in USD ({exc})", entry[field]
            ) from exc
    if not prices:
        raise ConfigError(file, where, f"at least one of {', '.join(PRICE_FIELDS)}")
    variant = entry.get("variant", "standard")
    if variant not in VARIANTS:
        raise ConfigError(file, f"{where}.variant", f"one of {', '.join(VARIANTS)}", variant)
    tier = entry.get("tier_min_prompt_tokens", 0)
    if not isinstance(tier, int) or isinstance(tier, bool) or tier < 0:
        raise ConfigError(file, f"{where}.tier_min_prompt_tokens", "a whole number >= 0", tier)
    return observation(
        prices,
        source=SOURCE,
        observed_at=observed_at,
        provider=provider,
        model_id=model,
        variant=variant,
        tier_min_prompt_tokens=tier,
        valid_from=_valid_from(entry, where, file),
        note=_text(entry, "note", where, file, required=False) or "",
        raw=f"{where}: {dict(entry)}"[:500],
        extra={"source_model_id": model, "file": file},
    )
