"""OpenRouter records: generation stats and chat-completion bodies with usage accounting.

Three shapes of one document are accepted:

(a) the body of ``GET /api/v1/generation?id=…``: ``{"data": {...}}``;
(b) that ``data`` object on its own;
(c) a chat-completion response body (``object: chat.completion``) with OpenRouter's ``usage``.

Generation stats, (a) and (b):

* One attempt per ``provider_responses`` entry (OpenRouter's own retries and provider
  fallbacks inside one generation); attempt key ``<generation id>:<index>``, logical request
  id = the generation id. Without ``provider_responses`` the generation is one attempt
  ``<id>:0``.
* Timing. ``created_at`` is taken as the moment the request arrived, and the attempts are laid
  end to end from it, in order, with no gap: a failed attempt lasts its ``latency``; the last
  attempt (the one that answered) lasts ``generation_time`` — documented as "from dispatching
  the upstream request until its response body ended" — or its ``latency`` when that is
  longer or ``generation_time`` is missing. Provider ``latency`` is "response latency" and,
  on a stream, falls far short of the generation (the DeepInfra fixture: 420 ms against
  2,940 ms), so using it alone would understate every streamed call. Without ``created_at``
  (the partial fixture) nothing can be placed in time: the attempts are still emitted with an
  empty ``started_at`` and normalize quarantines them as ``missing_timestamp``; likewise every
  attempt after one whose duration is unknown.
* Status and HTTP status are the entry's ``status`` (2xx success, 4xx/5xx error). A stream the
  client cancelled (``cancelled: true``) that answered 200 is a success: it was served and
  billed, and for cost that is what matters.
* Tokens are the ``native_tokens_*`` counts (the provider's own tokenizer, what billing uses),
  never the normalised ``tokens_*``. OpenRouter reports usage OpenAI-style — cached tokens
  inside the prompt count, reasoning inside the completion count — so both "includes" flags
  are true. ``total_cost`` and the tokens go on the last attempt only; earlier attempts get
  zero tokens and cost 0, because OpenRouter bills only the attempt that answered.
* ``endpoint_id`` is the deployment id; ``external_user`` the user.

Chat-completion body, (c): one attempt keyed by the generation id, from ``created`` (epoch
seconds), ``model`` (served), ``provider``, ``usage.prompt_tokens`` / ``completion_tokens``,
``prompt_tokens_details.cached_tokens`` / ``cache_write_tokens``,
``completion_tokens_details.reasoning_tokens`` and ``usage.cost``. The body has no end time:
``ended_at`` = ``created``, so its latency is not known (it comes out as 0 after normalize).

Bad input: a document that is neither shape is ``not_openrouter_generation``; no id is
``missing_id``; a non-list ``provider_responses`` or non-object entry is ``bad_structure``; a
list or object where a value belongs is ``bad_field``. Values of the wrong scalar type go on as
text for normalize to reject (``bad_number``, ``bad_timestamp``, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from collectors.logs.base import PythonFormat, RecordError, candidate

NOT_OURS = "not_openrouter_generation"
# keys only a generation-stats object has; one of them plus an id makes a bare ``data`` object
GENERATION_KEYS = frozenset(
    {"provider_responses", "native_tokens_prompt", "total_cost", "generation_time", "created_at"}
)
Scalar = str | int | float | bool | None


def _scalar(v: Any, key: str) -> Scalar:
    """A value for a candidate column: scalars only (a list or object where a number or name
    belongs quarantines the document), ints of sane size."""
    if v is None or isinstance(v, str | bool | float):
        return v
    if isinstance(v, int):
        return v if v.bit_length() <= 128 else "out_of_range"
    raise RecordError("bad_field", f"{key} is not a scalar")


def _get(obj: dict[str, Any], key: str) -> Scalar:
    return _scalar(obj.get(key), key)


def _ms(v: Any) -> float | None:
    """A duration in milliseconds, when it is a finite non-negative number."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) and 0 <= f <= 86_400_000 else None


def _latency_text(v: Any) -> Scalar:
    """An unusable latency handed on for normalize to name: as it is when that is safe,
    ``out_of_range`` for non-finite or astronomically large numbers (which normalize cannot
    add to a timestamp)."""
    try:
        f = float(v) if isinstance(v, int | float | str) and not isinstance(v, bool) else 0.0
    except (ValueError, OverflowError):
        return _scalar(v, "latency")
    return _scalar(v, "latency") if math.isfinite(f) and abs(f) < 1e12 else "out_of_range"


def _epoch_us(value: datetime) -> int:
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _created(v: Any) -> datetime | None:
    if not isinstance(v, str):
        return None
    try:
        t = datetime.fromisoformat(v.strip())
    except ValueError:
        return None
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t if datetime(2000, 1, 1, tzinfo=UTC) <= t <= datetime(2100, 1, 1, tzinfo=UTC) else None


def _id(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not v.strip() or len(v) > 200:
        raise RecordError("missing_id", "no generation id")
    return v.strip()


def _object(v: Any, what: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise RecordError("bad_structure", f"{what} is not an object")
    return v


class _Clock:
    """Lays attempts end to end from ``created_at``; unknown once a duration is unknown.

    An unreadable ``created_at`` is handed on as it is, so normalize names it
    ``bad_timestamp``; a missing one leaves ``started_at`` empty (``missing_timestamp``).
    """

    def __init__(self, created_at: Any) -> None:
        self.at = _created(created_at)
        self.raw = None if self.at is not None else _scalar(created_at, "created_at")

    def next(self, duration_ms: float | None) -> Scalar:
        start = self.at
        if start is None:
            return self.raw
        self.at = start + timedelta(milliseconds=duration_ms) if duration_ms is not None else None
        return _epoch_us(start)


@dataclass(frozen=True)
class OpenRouterFormat(PythonFormat):
    name: ClassVar[str] = "openrouter"
    family: ClassVar[str] = "openrouter"
    container: str = "jsonl"

    def extract(self, doc: Any) -> list[dict[str, Any]]:
        if not isinstance(doc, dict):
            raise RecordError(NOT_OURS, "document is not a JSON object")
        if "data" in doc:
            if not isinstance(doc["data"], dict):
                raise RecordError(NOT_OURS, "data is not an object")
            return generation(doc["data"])
        if "usage" in doc and ("choices" in doc or "object" in doc):
            return [completion(doc)]
        if "id" in doc and GENERATION_KEYS & doc.keys():
            return generation(doc)
        raise RecordError(NOT_OURS, "neither generation stats nor a chat completion with usage")


def generation(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidates for one generation-stats object (shapes a and b)."""
    gen_id = _id(data.get("id"))
    responses = data.get("provider_responses")
    whole = responses is None or responses == []  # no per-provider detail: one attempt
    if whole:
        responses = [{"provider_name": data.get("provider_name")}]
    if not isinstance(responses, list):
        raise RecordError("bad_structure", "provider_responses is not a list")
    clock = _Clock(data.get("created_at"))
    last = len(responses) - 1
    rows = []
    for index, entry in enumerate(responses):
        entry = _object(entry, "a provider_responses entry")
        final = index == last
        latency = entry.get("latency")
        if final and latency is None:
            latency = data.get("latency")
        duration = _ms(latency)
        if final:
            known = [d for d in (duration, _ms(data.get("generation_time"))) if d is not None]
            duration = max(known) if known else None
        status: Any = entry.get("status")
        if whole:
            status = "error" if data.get("finish_reason") == "error" else "success"
        started = clock.next(duration)
        rows.append(
            candidate(
                attempt_key=f"{gen_id}:{index}",
                logical_request_id=gen_id,
                attempt_index=index,
                started_at=started,
                latency_ms=duration if duration is not None else _latency_text(latency),
                provider=_get(entry, "provider_name"),
                requested_model=_get(data, "model"),
                served_model=_scalar(entry.get("model_permaslug") or data.get("model"), "model"),
                deployment_id=_get(entry, "endpoint_id"),
                user_id=_get(data, "external_user"),
                input_tokens=_get(data, "native_tokens_prompt") if final else 0,
                cached_input_tokens=_get(data, "native_tokens_cached") if final else None,
                output_tokens=_get(data, "native_tokens_completion") if final else 0,
                reasoning_tokens=_get(data, "native_tokens_reasoning") if final else None,
                input_includes_cached=True,
                output_includes_reasoning=True,
                status=_scalar(status, "status"),
                http_status=None if whole else _get(entry, "status"),
                streamed=_get(data, "streamed"),
                reported_cost_usd=_get(data, "total_cost") if final else 0,
            )
        )
    return rows


def completion(doc: dict[str, Any]) -> dict[str, Any]:
    """The candidate for one chat-completion body with usage (shape c)."""
    gen_id = _id(doc.get("id"))
    usage = _object(doc.get("usage"), "usage")
    prompt = _object(usage.get("prompt_tokens_details"), "usage.prompt_tokens_details")
    out = _object(usage.get("completion_tokens_details"), "usage.completion_tokens_details")
    choices = doc.get("choices")
    choices = choices if isinstance(choices, list) else []
    failed = any(isinstance(c, dict) and c.get("finish_reason") == "error" for c in choices)
    streamed = {"chat.completion": False, "chat.completion.chunk": True}
    kind = doc.get("object") if isinstance(doc.get("object"), str) else None
    return candidate(
        attempt_key=gen_id,
        logical_request_id=gen_id,
        started_at=_get(doc, "created"),
        ended_at=_get(doc, "created"),
        provider=_get(doc, "provider"),
        served_model=_get(doc, "model"),
        input_tokens=_get(usage, "prompt_tokens"),
        cached_input_tokens=_get(prompt, "cached_tokens"),
        cache_write_tokens=_get(prompt, "cache_write_tokens"),
        output_tokens=_get(usage, "completion_tokens"),
        reasoning_tokens=_get(out, "reasoning_tokens"),
        input_includes_cached=True,
        output_includes_reasoning=True,
        status="error" if failed else "success",
        streamed=streamed.get(kind) if kind else None,
        reported_cost_usd=_get(usage, "cost"),
    )


FORMAT = OpenRouterFormat()
