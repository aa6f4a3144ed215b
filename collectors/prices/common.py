"""Helpers every price parser shares: exact money parsing, sanity limits, skips, duplicates.

Conventions (the store and the SQL layer rely on them):

* Money is :class:`~decimal.Decimal`. Per-token strings are scaled to per-1M with
  :meth:`Decimal.scaleb` (an exponent shift: exact, never a float).
* A value that is not a number, NaN, infinite, negative or implausibly large (over
  :data:`MAX_PER_MTOK` USD per 1M tokens or :data:`MAX_PER_UNIT` USD per request/image) is
  refused (:class:`PriceValueError`, with one of the named :data:`SKIP_REASONS`); the model is
  then emitted as a *skip*: a :class:`PriceObservation` with every price ``None``, a ``note``
  saying why and the reason's name in ``extra["skip_reason"]``. :func:`is_skip` recognises them
  (they are never priced); :func:`skip_counts` counts them by reason. The warehouse keeps them
  (``price_observations.skipped``), so a refused price is never silently gone.
* A model id or provider name with markup, quotes, brackets, whitespace or control characters
  (``<script>...``, ``[x](javascript:...)``) is not an id any API uses: such an entry is counted
  as ``not_a_model_id`` and emits nothing (:func:`looks_like_id`).
* Two rows of one source for the same identity (provider, model, variant, tier, window) are
  merged when their prices agree and turned into a skip when they disagree (never silently pick
  one).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from collectors.errors import TerminalSourceError
from collectors.records import PriceObservation

log = logging.getLogger(__name__)

MAX_PER_MTOK = Decimal(10_000)  # USD per 1M tokens; o1-pro output is $600, the dearest
# entry of the recorded LiteLLM map (jais-30b-chat output) $9,710
MAX_PER_UNIT = Decimal(10_000)  # USD per request / per image
MAX_EXPONENT = 30  # a price is between 1e-30 and 1e30 (or zero) before any other check

PRICE_FIELDS = (
    "input_per_mtok",
    "cached_input_per_mtok",
    "cache_write_5m_per_mtok",
    "cache_write_1h_per_mtok",
    "output_per_mtok",
    "reasoning_per_mtok",
    "per_request",
    "per_image",
)
"""The money fields of :class:`PriceObservation`, in the order the warehouse stores them."""


_NOT_IN_IDS = re.compile(
    r"[\s<>\"'`&\\|()\[\]{}\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)


def looks_like_id(value: str, limit: int = 300) -> bool:
    """Whether ``value`` can be a model id or provider slug (``openai/gpt-4o``,
    ``anthropic.claude-haiku-4-5@20251001``, ``~deepseek/deepseek-v4``): non-empty, at most
    ``limit`` characters, and none of markup, quotes, brackets, whitespace or control."""
    return 0 < len(value) <= limit and not _NOT_IN_IDS.search(value)


SKIP_REASONS = {
    # name (extra["skip_reason"] of a skip row) -> the words its note carries
    "not_a_number": "not a number",
    "not_a_price": "not a per-1M-token price",
    "not_finite": "not a finite number",
    "negative_price": "negative price",
    "implausible_price": "implausible",
    "conflicting_duplicate": "conflicting duplicate",
    "not_priced": "",  # any other skip: no price listed, dynamic price, unknown condition...
}
"""Why a model was emitted as a skip: the refused *values* first, then the other skips."""


class PriceValueError(ValueError):
    """A single price value that cannot be used (one line, names the problem); ``reason`` is
    its name in :data:`SKIP_REASONS`."""

    def __init__(self, message: str, reason: str = "not_priced") -> None:
        super().__init__(message)
        self.reason = reason if reason in SKIP_REASONS else "not_priced"


@dataclass
class ParseResult:
    """What a parser produced: observations (skips included) and counts of what it left out."""

    observations: list[PriceObservation] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> entries not emitted

    @property
    def priced(self) -> list[PriceObservation]:
        return [o for o in self.observations if not is_skip(o)]

    @property
    def refused(self) -> Counter[str]:
        """Skip rows by reason (models emitted unpriced, kept in the warehouse)."""
        return skip_counts(self.observations)


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from a JSON/YAML/page value; refuses floats' artefacts, NaN and infinity."""
    if isinstance(value, bool) or value is None:
        raise PriceValueError(f"not a number: {value!r}", "not_a_number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that round-trips: what the author wrote
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text or len(text) > 60:
            raise PriceValueError(f"not a number: {value[:40]!r}", "not_a_number")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise PriceValueError(f"not a number: {value[:40]!r}", "not_a_number") from exc
    else:
        raise PriceValueError(f"not a number: {type(value).__name__}", "not_a_number")
    if not number.is_finite():
        raise PriceValueError(f"not a finite number: {str(value)[:40]!r}", "not_finite")
    if number.is_zero():
        return Decimal(0)
    # 1e999999999 is a valid Decimal, but comparing or scaling it overflows the context
    if not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise PriceValueError(f"implausible number: {str(value)[:40]!r}", "implausible_price")
    return number


def checked(value: Decimal, *, per_mtok: bool = True) -> Decimal:
    """``value`` if it is a plausible price, else :class:`PriceValueError` (NaN and infinity
    included: a Decimal that did not come through :func:`to_decimal`, e.g. the catalog's)."""
    if not value.is_finite():
        raise PriceValueError(f"not a finite number: {value}", "not_finite")
    if value < 0:
        raise PriceValueError(f"negative price {value}", "negative_price")
    limit = MAX_PER_MTOK if per_mtok else MAX_PER_UNIT
    if value > limit:
        raise PriceValueError(f"implausible price {value:.6g} (limit {limit})", "implausible_price")
    return value


def per_token_to_mtok(value: Any) -> Decimal:
    """USD per token (as a string/Decimal) -> USD per 1M tokens, exactly, sanity-checked."""
    number = to_decimal(value)
    if abs(number) > MAX_PER_MTOK:  # checked before scaling so huge exponents cannot overflow
        raise PriceValueError(f"implausible per-token price {number:.6g}", "implausible_price")
    return checked(without_positive_exponent(number.scaleb(6)))


def without_positive_exponent(value: Decimal) -> Decimal:
    """``value`` without a positive exponent (``1E+1`` -> ``10``); same number, readable text."""
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


def observation(prices: Mapping[str, Decimal | None], **fields: Any) -> PriceObservation:
    """A :class:`PriceObservation` from identity/metadata ``fields`` plus a ``prices`` mapping."""
    unknown = set(prices) - set(PRICE_FIELDS)
    if unknown:
        raise ValueError(f"not price fields: {sorted(unknown)}")
    kwargs: dict[str, Any] = {**fields, **prices}
    return PriceObservation(**kwargs)


def is_skip(obs: PriceObservation) -> bool:
    """True for a placeholder that records why a model was not priced (every price None)."""
    return obs.discount_pct is None and all(getattr(obs, f) is None for f in PRICE_FIELDS)


def skip_counts(observations: Iterable[PriceObservation]) -> Counter[str]:
    """The skip rows among ``observations``, counted by their reason's name."""
    return Counter(o.extra.get("skip_reason", "not_priced") for o in observations if is_skip(o))


def skip(
    source: str,
    observed_at: datetime,
    provider: str,
    model_id: str,
    note: str,
    *,
    raw: str = "",
    extra: dict[str, str] | None = None,
    variant: str = "standard",
    reason: str = "not_priced",
) -> PriceObservation:
    """A skip row: why ``model_id`` is not priced from this source, in words (``note``) and by
    name (``reason``, one of :data:`SKIP_REASONS`, kept as ``extra["skip_reason"]``)."""
    return PriceObservation(
        source=source,
        observed_at=observed_at,
        provider=provider,
        model_id=model_id,
        variant=variant,
        note=note,
        raw=raw[:500],
        extra={**(extra or {}), "skip_reason": reason if reason in SKIP_REASONS else "not_priced"},
    )


def unusable(
    source: str,
    observed_at: datetime,
    provider: str,
    model_id: str,
    exc: PriceValueError,
    *,
    prefix: str = "unusable price",
    raw: str = "",
    extra: dict[str, str] | None = None,
    variant: str = "standard",
) -> PriceObservation:
    """The skip row of a model whose price was refused (:class:`PriceValueError`)."""
    note = f"{prefix}: {exc}"
    return skip(
        source,
        observed_at,
        provider,
        model_id,
        note,
        raw=raw,
        extra=extra,
        variant=variant,
        reason=exc.reason,
    )


def identity(obs: PriceObservation) -> tuple[Any, ...]:
    """What makes two observations of one source "the same price point"."""
    return (
        obs.provider,
        obs.model_id,
        obs.variant,
        obs.tier_min_prompt_tokens,
        obs.window_start_utc,
        obs.window_end_utc,
        obs.weekdays_only,
        obs.valid_from,
    )


def prices_of(obs: PriceObservation) -> tuple[Decimal | None, ...]:
    return tuple(getattr(obs, f) for f in (*PRICE_FIELDS, "discount_pct"))


def dedupe(observations: Iterable[PriceObservation]) -> list[PriceObservation]:
    """Merge agreeing duplicates, turn disagreeing ones into one skip with a note. Order kept."""
    groups: dict[tuple[Any, ...], list[PriceObservation]] = {}
    for obs in observations:
        groups.setdefault(identity(obs), []).append(obs)
    out: list[PriceObservation] = []
    for group in groups.values():
        priced = [o for o in group if not is_skip(o)]
        if not priced:
            out.append(group[0])
            continue
        distinct = {prices_of(o) for o in priced}
        if len(distinct) == 1:
            out.append(priced[0])
            continue
        first = priced[0]
        ids = sorted({o.extra.get("source_model_id", o.model_id) for o in priced})
        note = (
            f"conflicting duplicate entries ({len(priced)}: {', '.join(ids)[:200]}); "
            "not priced from this source until they agree"
        )
        log.warning("%s: %s/%s: %s", first.source, first.provider, first.model_id, note)
        out.append(
            replace(
                skip(
                    first.source,
                    first.observed_at,
                    first.provider,
                    first.model_id,
                    note,
                    reason="conflicting_duplicate",
                ),
                variant=first.variant,
                tier_min_prompt_tokens=first.tier_min_prompt_tokens,
                window_start_utc=first.window_start_utc,
                window_end_utc=first.window_end_utc,
                weekdays_only=first.weekdays_only,
                raw=" | ".join(o.raw for o in priced)[:500],
            )
        )
    return out


def best_ranked(
    ranked: Iterable[tuple[int, PriceObservation]],
) -> tuple[list[PriceObservation], int]:
    """Keep, per (provider, model), only the observations of the best (lowest) rank.

    Ranks say how directly an entry speaks for a model (its own key before a re-hosted copy);
    a model's whole price list comes from one rank, never a mix. Returns (kept, dropped count).
    """
    items = list(ranked)
    best: dict[tuple[str, str], int] = {}
    for rank, obs in items:
        key = (obs.provider, obs.model_id)
        best[key] = min(rank, best.get(key, rank))
    kept = [obs for rank, obs in items if rank == best[(obs.provider, obs.model_id)]]
    return kept, len(items) - len(kept)


def decode_text(payload: bytes | str, source: str, url: str | None) -> str:
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TerminalSourceError(source, url, f"body is not UTF-8 ({exc.reason})") from exc


def _nan_constant(name: str) -> Decimal:
    return Decimal("NaN")  # refused later, per model, by to_decimal


def load_json(payload: bytes | str, source: str, url: str | None) -> Any:
    """Parse JSON with every number as an exact Decimal (never float)."""
    text = decode_text(payload, source, url)
    try:
        return json.loads(
            text, parse_float=Decimal, parse_int=Decimal, parse_constant=_nan_constant
        )
    except (ValueError, RecursionError) as exc:
        raise TerminalSourceError(
            source, url, f"not valid JSON ({str(exc)[:120]}); the format may have changed"
        ) from exc


def short_json(value: Any, limit: int = 500) -> str:
    """A compact JSON rendering of a source fragment for ``PriceObservation.raw``."""
    try:
        text = json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text[:limit]
