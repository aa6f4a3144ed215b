"""What the demo's month of traffic looks like: models, tasks, teams, incidents and volume.

The chains come from the demo manifest (``manifest.yaml`` beside this file), so the traffic
follows the routing table the tuner later reads. Everything else is declared here: how fast and
how reliable each model is, what each task's requests look like, who sends them, and the three
incidents the dashboard should surface:

* a rate-limit storm: for six hours on a weekday afternoon, Anthropic answers 40% of calls
  with 429 and requests fall back down their chains;
* a latency regression: Gemini 2.5 Pro answers twice as slowly from day 18 on;
* a price cut: Gemini 2.5 Flash costs 20% less from day 15 (recorded as a price change; the
  gateway's own price map only catches up three days later, so its reported cost drifts).

And one the price history should catch: from day 27 the demo's price feed lists GPT-4o's output
at ten times its price (a typo upstream); the move is beyond ``prices.review_factor``, so it is
held for review and the last known price stays in force.

Prices are list prices in USD per 1M tokens (input, cached read, cache write, output), the same
numbers the bundled catalog (genai-prices) holds; ``tests/demo`` checks that they still agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

MANIFEST = Path(__file__).with_name("manifest.yaml")
TIMEZONE = "Europe/Berlin"
DAYS = 30

Prices = tuple[float, float, float, float]  # USD per 1M: input, cached read, cache write, output


@dataclass(frozen=True)
class ModelSpec:
    name: str  # manifest provider name
    model: str  # as the gateway logs it (LiteLLM ``model``)
    provider: str  # LiteLLM ``custom_llm_provider`` / OTel ``gen_ai.provider.name``
    map_key: str  # LiteLLM price-map key (the bare model id)
    deployment: str
    prices: Prices
    ttft_s: float  # median time to first token
    tokens_per_s: float  # median output speed
    fail: float  # share of attempts failing outside incidents
    errors: tuple[tuple[str, int], ...]  # error kind weights
    context: int = 128_000
    reasoning: float = 0.0  # share of output tokens that are reasoning tokens
    usage_style: str = "openai"
    tier: tuple[int, Prices] | None = None  # long-context price: prompts above N tokens


_OPENAI_ERRORS = (("rate_limit", 55), ("server", 15), ("unavailable", 10), ("timeout", 20))
_ANTHROPIC_ERRORS = (("rate_limit", 30), ("overloaded", 50), ("server", 10), ("timeout", 10))
_GEMINI_ERRORS = (("rate_limit", 50), ("unavailable", 30), ("server", 10), ("timeout", 10))

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("gpt-4o", "openai/gpt-4o", "openai", "gpt-4o", "dep-openai-4o",
              (2.5, 1.25, 0, 10), 0.55, 85, 0.02, _OPENAI_ERRORS),
    ModelSpec("gpt-4o-mini", "openai/gpt-4o-mini", "openai", "gpt-4o-mini", "dep-openai-4o-mini",
              (0.15, 0.075, 0, 0.6), 0.35, 110, 0.015, _OPENAI_ERRORS),
    ModelSpec("claude-sonnet-4-5", "anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5",
              "dep-anthropic-sonnet45", (3, 0.3, 3.75, 15), 0.9, 65, 0.03, _ANTHROPIC_ERRORS,
              1_000_000, usage_style="anthropic", tier=(200_000, (6, 0.6, 7.5, 22.5))),
    ModelSpec("claude-haiku-4-5", "anthropic/claude-haiku-4-5", "anthropic", "claude-haiku-4-5",
              "dep-anthropic-haiku45", (1, 0.1, 1.25, 5), 0.45, 140, 0.025, _ANTHROPIC_ERRORS,
              200_000, usage_style="anthropic"),
    ModelSpec("gemini-2.5-flash", "gemini/gemini-2.5-flash", "gemini", "gemini-2.5-flash",
              "dep-gemini-flash25", (0.3, 0.03, 0, 2.5), 0.4, 200, 0.02, _GEMINI_ERRORS,
              1_048_576, reasoning=0.25),
    ModelSpec("gemini-2.5-pro", "gemini/gemini-2.5-pro", "gemini", "gemini-2.5-pro",
              "dep-gemini-pro25", (1.25, 0.125, 0, 10), 1.6, 110, 0.03, _GEMINI_ERRORS,
              1_048_576, reasoning=0.45, tier=(200_000, (2.5, 0.25, 0, 15))),
    ModelSpec("deepseek-chat", "deepseek/deepseek-chat", "deepseek", "deepseek-chat",
              "dep-deepseek-chat", (0.27, 0.07, 0, 1.1), 1.2, 35, 0.07,
              (("timeout", 40), ("unavailable", 30), ("server", 20), ("rate_limit", 10))),
    ModelSpec("mistral-large-latest", "mistral/mistral-large-latest", "mistral",
              "mistral-large-latest", "dep-mistral-large", (2, 0, 0, 6), 0.6, 55, 0.025,
              _OPENAI_ERRORS),
    ModelSpec("llama-3.3-70b-versatile", "groq/llama-3.3-70b-versatile", "groq",
              "llama-3.3-70b-versatile", "dep-groq-llama33-70b", (0.59, 0, 0, 0.79), 0.2, 280,
              0.06, (("rate_limit", 80), ("unavailable", 10), ("timeout", 10))),
)  # fmt: skip
"""Models behind the gateway (LiteLLM StandardLoggingPayload logs)."""

ACME = ModelSpec(
    "acme-coder-7b",
    "acme-coder-7b",
    "acme",
    "acme-coder-7b",
    "vllm-acme-coder",
    (0, 0, 0, 0),
    0.12,
    150,
    0.03,
    (("unavailable", 60), ("timeout", 40)),
    16_384,
)
"""The self-hosted model no price source knows: the one unpriced model of the demo."""
OTEL_FALLBACK = "gpt-4o-mini"


@dataclass(frozen=True)
class TaskSpec:
    name: str  # "unlabeled": no task tag
    share: float
    prompt: tuple[int, float]  # median tokens, log-normal sigma
    output: tuple[int, float]
    cache_p: float  # share of requests whose prompt prefix is in the provider's cache
    stream_p: float
    gateway_cache_p: float  # share answered from the gateway's own response cache
    messages: tuple[str, ...]


TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("boilerplate", 0.27, (900, 0.6), (350, 0.6), 0.3, 0.2, 0.04,
             ("Write a pydantic model for an invoice.", "Generate a FastAPI CRUD router.")),
    TaskSpec("debugging", 0.20, (3500, 0.7), (700, 0.6), 0.5, 0.7, 0.01,
             ("Why does this raise KeyError on the second call?", "Fix the race in this consumer.")),
    TaskSpec("algorithm", 0.11, (1800, 0.6), (1100, 0.5), 0.2, 0.5, 0.005,
             ("Top k frequent words in O(n log k).", "Interval tree with delete.")),
    TaskSpec("review", 0.15, (7000, 0.9), (600, 0.5), 0.4, 0.1, 0.01,
             ("Review this diff for SQL injection.", "Review the retry logic.")),
    TaskSpec("architecture", 0.06, (5000, 0.6), (1500, 0.5), 0.3, 0.8, 0.0,
             ("Design an event-sourced refund ledger.", "Split billing out of the monolith?")),
    TaskSpec("unlabeled", 0.13, (600, 0.8), (250, 0.7), 0.1, 0.3, 0.06,
             ("Summarize this paragraph.", "Translate 'good morning' to German.")),
)  # fmt: skip
AUTOCOMPLETE_SHARE = 0.08  # the OTel-instrumented IDE autocomplete service
AUTOCOMPLETE = TaskSpec(
    "boilerplate", AUTOCOMPLETE_SHARE, (1200, 0.4), (60, 0.6), 0.0, 1.0, 0.0, ()
)
ANSWERS = ("Here is a version that handles the empty case first.", "Use a heap of size k.")


@dataclass(frozen=True)
class TeamSpec:
    name: str
    share: float
    keys: tuple[str, ...]
    affinity: tuple[tuple[str, float], ...] = ()  # task weight multipliers
    users: int = 8


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("payments", 0.25, ("payments-backend", "payments-ci")),
    TeamSpec("platform", 0.25, ("platform-ide", "platform-review-bot"),
             (("review", 2.0), ("architecture", 2.0))),
    TeamSpec("mobile", 0.18, ("mobile-app", "mobile-ci"), (("boilerplate", 1.5),)),
    TeamSpec("data-science", 0.17, ("ds-notebooks", "ds-pipelines"), (("algorithm", 3.0),)),
    TeamSpec("support-tools", 0.15, ("support-bot",), (("unlabeled", 3.0), ("debugging", 0.5))),
)  # fmt: skip
OTEL_TEAM = "platform"


@dataclass(frozen=True)
class ErrorKind:
    cls: str  # LiteLLM exception class
    code: str  # HTTP status
    message: str  # {p}: provider name as LiteLLM spells it in messages
    normalized: str
    policy: str  # the retry_policy class of the manifest; "client": no retry, no fallback


ERRORS: dict[str, ErrorKind] = {
    "rate_limit": ErrorKind("RateLimitError", "429", "litellm.RateLimitError: RateLimitError: {p}Exception - Rate limit reached for requests. Please try again in 2s.", "429_RATE_LIMIT_EXCEEDED", "rate_limit"),
    "overloaded": ErrorKind("InternalServerError", "529", "litellm.InternalServerError: {p}Exception - Overloaded", "529_OVERLOADED", "server_error"),
    "server": ErrorKind("InternalServerError", "500", "litellm.InternalServerError: {p}Exception - Internal server error", "500_INTERNAL_SERVER_ERROR", "server_error"),
    "unavailable": ErrorKind("ServiceUnavailableError", "503", "litellm.ServiceUnavailableError: {p}Exception - Service Unavailable", "503_SERVICE_UNAVAILABLE", "server_error"),
    "timeout": ErrorKind("Timeout", "408", "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out.", "408_TIMEOUT", "timeout"),
    "context": ErrorKind("ContextWindowExceededError", "400", "litellm.ContextWindowExceededError: {p}Exception - prompt is too long: maximum context length exceeded", "400_CONTEXT_WINDOW_EXCEEDED", "context_length"),
    "bad_request": ErrorKind("BadRequestError", "400", "litellm.BadRequestError: {p}Exception - Invalid schema for function 'apply_patch': 'additionalProperties' is required to be supplied and to be false", "400_BAD_REQUEST", "client"),
}  # fmt: skip
BAD_REQUEST_P = 0.003  # share of requests the client sends malformed: failed, not retried
STICKY = 0.5  # chance a retry on the same model fails like the attempt before it
PROVIDER_NAMES = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Vertex_ai_beta",
    "deepseek": "Deepseek",
    "mistral": "Mistral",
    "groq": "Groq",
}


@dataclass(frozen=True)
class Incidents:
    storm_provider: str
    storm_start: float  # epoch seconds
    storm_end: float
    storm_rate: float
    slow_model: str
    slow_from: float
    slow_factor: float
    cut_model: str
    cut_at: float  # the price source first lists the new price
    cut_factor: float
    gateway_map_lag_s: float  # until the gateway's own price map knows the cut
    glitch_model: str
    glitch_at: float
    glitch_factor: float


@dataclass(frozen=True)
class Window:
    """The month: 30 local days, the last one today, up to ``now``."""

    now: datetime
    start: datetime  # UTC, aware
    tz: str = TIMEZONE

    @property
    def days(self) -> list[date]:
        return [self.start.date() + timedelta(days=d) for d in range(DAYS)]

    def day_start(self, d: int) -> float:
        return (self.start + timedelta(days=d)).timestamp()


def window(now: datetime | None = None) -> Window:
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    return Window(now, today - timedelta(days=DAYS - 1))


def incidents(w: Window) -> Incidents:
    storm_day = w.start + timedelta(days=9)
    while storm_day.weekday() >= 5:  # a weekday afternoon, when traffic peaks
        storm_day += timedelta(days=1)
    storm = storm_day.replace(hour=12).timestamp()
    return Incidents(
        storm_provider="anthropic",
        storm_start=storm,
        storm_end=storm + 6 * 3600,
        storm_rate=0.4,
        slow_model="gemini-2.5-pro",
        slow_from=(w.start + timedelta(days=18, hours=14)).timestamp(),
        slow_factor=2.0,
        cut_model="gemini-2.5-flash",
        cut_at=(w.start + timedelta(days=15, hours=6)).timestamp(),
        cut_factor=0.8,
        gateway_map_lag_s=3 * 86400,
        glitch_model="gpt-4o",
        glitch_at=(w.start + timedelta(days=27, hours=6)).timestamp(),
        glitch_factor=10.0,
    )


# Local hour of day -> relative traffic (developers in Berlin; CI runs overnight).
_HOURS = (0.06, 0.05, 0.05, 0.05, 0.05, 0.07, 0.15, 0.35, 0.75, 1.0, 1.0, 1.0,
          0.7, 0.9, 1.0, 1.0, 0.95, 0.8, 0.5, 0.3, 0.25, 0.2, 0.12, 0.08)  # fmt: skip
_WEEKDAYS = (1.0, 1.05, 1.05, 1.0, 0.85, 0.25, 0.2)  # Monday first
GROWTH = 0.2  # traffic grows by a fifth over the month


@cache
def hour_weights(w: Window) -> tuple[tuple[float, ...], ...]:
    """Per day, per UTC hour: relative traffic (0 after ``now``)."""
    tz = ZoneInfo(w.tz)
    now = w.now.timestamp()
    out = []
    for d in range(DAYS):
        row = []
        for h in range(24):
            t = w.day_start(d) + h * 3600
            local = datetime.fromtimestamp(t, tz)
            weight = _HOURS[local.hour] * _WEEKDAYS[local.weekday()] * (1 + GROWTH * d / DAYS)
            row.append(weight * max(0.0, min(1.0, (now - t) / 3600)))
        out.append(tuple(row))
    return tuple(out)


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` spread over ``weights`` in whole numbers that add up (largest remainder)."""
    s = sum(weights)
    exact = [total * x / s for x in weights] if s else [0.0] * len(weights)
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- the manifest -------------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    chains: dict[str, tuple[str, ...]]  # task -> provider names
    models: dict[str, str]  # provider name -> gateway model string
    retry_policy: dict[str, int]  # error class -> retries on the same model
    timeout_s: float
    max_output_tokens: dict[str, int] = field(default_factory=dict)
    # task -> (chain, share): an exploration under way (tasks.<name>.experiment), which the
    # gateway serves as a weighted split, as LiteLLM's weighted deployments do
    experiments: dict[str, tuple[tuple[str, ...], float]] = field(default_factory=dict)


@cache
def routing(path: Path = MANIFEST) -> Routing:
    doc: Any = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    models = {p["name"]: p.get("model", p["name"]) for p in doc["providers"]}
    chains = {t: tuple(v["chain"]) for t, v in doc["tasks"].items()}
    experiments = {
        t: (tuple(v["experiment"]["chain"]), float(v["experiment"]["share"]))
        for t, v in doc["tasks"].items()
        if v.get("experiment")
    }
    known = {m.name for m in MODELS}
    for task, chain in [*chains.items(), *((t, c) for t, (c, _) in experiments.items())]:
        missing = [n for n in chain if n not in known or n not in models]
        if missing:
            raise ValueError(f"{path}: task {task} chains to unknown providers {missing}")
    return Routing(
        chains=chains,
        models=models,
        retry_policy={str(k): int(v) for k, v in doc["routing"]["retry_policy"].items()},
        timeout_s=float(doc["routing"].get("timeout_s", 30)),
        max_output_tokens={t: int(v["max_output_tokens"]) for t, v in doc["tasks"].items()},
        experiments=experiments,
    )
