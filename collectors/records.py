"""The record contracts every collector emits.

* :class:`Attempt` is one call to one provider, as it stands in the warehouse after ingest
  (``raw_attempts``).  A logical request is one or more attempts sharing ``logical_request_id``.
* :class:`Quarantined` is an input row that could not be turned into an attempt, with its
  source position and the reason.
* :class:`PriceObservation` is one price seen at one time by one price source.

Money is :class:`decimal.Decimal` (USD), time is UTC.  Prompts and responses never appear here,
and API keys only as a SHA-256 hash.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

ERROR_CLASSES = (
    "rate_limit",
    "timeout",
    "server_error",
    "content_filter",
    "context_length",
    "auth",
    "bad_request",
    "validation_failed",
    "other",
)

STATUSES = ("success", "error")

PRICE_SOURCES = (
    "override",
    "openai",
    "anthropic",
    "deepseek",
    "openrouter",
    "litellm",
    "catalog",
)
"""Price source names, highest precedence first (provider pages share one rank)."""


FORMAT_NAMES = ("routeledger", "litellm", "litellm-spendlogs", "otel", "openrouter", "mapped")
"""The log formats by name, as ``--format``, ``[[sources]] format`` and :func:`collectors.logs.get`
spell them (``auto`` is not a format: it recognises one)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call to one provider (DESIGN.md, "Records")."""

    source: str  # log format that produced it: litellm, litellm-spendlogs, otel, openrouter, ...
    source_file: str
    source_line: int  # 1-based line (JSONL/CSV) or document number
    attempt_id: str  # stable across re-ingests: "<family>:<id>" or a content hash
    logical_request_id: str
    started_at: datetime
    ended_at: datetime
    served_model: str
    status: str  # success | error
    attempt_index: int | None = (
        None  # as the source numbered it; the SQL layer derives the final one
    )
    ttft_ms: float | None = None
    latency_ms: float | None = None
    provider: str | None = None
    requested_model: str | None = None
    deployment_id: str | None = None
    base_model: str | None = None
    task: str | None = None  # explicit task from the default rules; config rules apply later
    team: str | None = None
    user_id: str | None = None
    key_hash: str | None = None
    key_alias: str | None = None
    route: str | None = None
    agent_name: str | None = None  # the agent whose run made the call (OTel, OpenInference)
    conversation_id: str | None = None  # its conversation / session: context, not a request
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    cache_write_1h_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    input_includes_cached: bool = True  # OpenAI style; Anthropic's own API counts them apart
    output_includes_reasoning: bool = True
    error_class: str | None = None
    error_type: str | None = None  # the source's own label (exception class, error.type)
    http_status: int | None = None
    gateway_cache_hit: bool = False
    streamed: bool | None = None
    reported_cost_usd: Decimal | None = None
    validation_passed: bool | None = None
    quality_score: float | None = None
    load_id: str | None = None

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An input row that was not loaded, and why."""

    source: str
    source_file: str
    source_line: int
    reason: str  # short, stable reason code: invalid_json, bad_timestamp, negative_tokens, ...
    detail: str = ""  # one human line
    raw_excerpt: str = ""  # truncated, with secrets redacted


@dataclass(frozen=True, slots=True)
class PriceObservation:
    """One price seen by one source at one time, in USD per 1M units (DESIGN.md, "Records").

    A model with tiers or time-of-day prices yields one observation per tier / window.
    ``None`` means "not charged / not offered" for that dimension, never "unknown = 0".
    """

    source: str  # one of PRICE_SOURCES
    observed_at: datetime  # UTC
    provider: str  # normalised provider slug: openai, anthropic, google, deepseek, ...
    model_id: str  # the provider's API model id (or the source's id, e.g. "openai/gpt-4o")
    input_per_mtok: Decimal | None = None
    cached_input_per_mtok: Decimal | None = None
    cache_write_5m_per_mtok: Decimal | None = None
    cache_write_1h_per_mtok: Decimal | None = None
    output_per_mtok: Decimal | None = None
    reasoning_per_mtok: Decimal | None = None  # None: reasoning billed as output
    per_request: Decimal | None = None  # USD per request
    per_image: Decimal | None = None  # USD per input image
    tier_min_prompt_tokens: int = 0  # applies when the request's prompt tokens exceed this
    window_start_utc: time | None = None  # time-of-day price window (start inclusive)
    window_end_utc: time | None = None  # end exclusive; may wrap past midnight
    weekdays_only: bool = False
    variant: str = "standard"  # standard | batch | priority | flex
    match_rule: str = "exact"  # how this id was matched: exact | alias | prefix | ...
    valid_from: datetime | None = None  # set by overrides that start on a date
    discount_pct: Decimal | None = None  # negotiated discount applied on top (overrides)
    raw: str = ""  # the source's own text for this price (cell text, JSON fragment)
    note: str = ""  # e.g. why a dynamic (-1) price was skipped
    extra: dict[str, str] = field(default_factory=dict)
