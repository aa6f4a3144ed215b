"""OpenTelemetry GenAI spans, as OTLP/JSON Lines from the Collector's ``file`` exporter.

Each line is one ``ExportTraceServiceRequest`` (``resourceSpans`` → ``scopeSpans`` → ``spans``).
Every GenAI model call span becomes one candidate attempt:

* A span is a GenAI span when it has ``gen_ai.operation.name`` or any ``gen_ai.request.*`` /
  ``gen_ai.usage.*`` attribute. Other spans (HTTP, DB, app spans) are skipped, not errors.
  Spans whose operation is not a model call (``invoke_agent``, ``create_agent``,
  ``execute_tool``, ``invoke_workflow``) are skipped too: they wrap the model-call spans, and
  counting them would count the same tokens twice. ``embeddings`` spans are kept: they are
  paid calls.
* A metrics or logs batch (``resourceMetrics`` / ``resourceLogs``) yields nothing; a document
  with none of the three is :class:`RecordError` ``not_otlp``.
* ``attempt_key`` is ``traceId:spanId`` (lowercase hex, validated, else ``bad_id``);
  ``logical_request_id`` is the trace id, so every model call of one trace is one logical
  request (OTLP has no finer notion of "the same request retried").
* Times are ``*UnixNano`` decimal strings, passed through: normalize reads epoch nanoseconds.

Token counts follow the GenAI semantic conventions (registry ``gen_ai.usage.*``, semconv
1.37+): "``gen_ai.usage.input_tokens``: This value SHOULD include all types of input tokens,
including cached tokens", and ``cache_read`` / ``cache_creation`` "SHOULD be included in
``gen_ai.usage.input_tokens``"; reasoning tokens likewise sit inside ``output_tokens``. So
``input_includes_cached`` and ``output_includes_reasoning`` are ``true`` — even for Anthropic,
whose own API counts cache reads apart: the instrumentations we checked add them back
(OpenLLMetry's anthropic instrumentation sets ``input + cache_read + cache_creation``). Two
exceptions mark the counts exclusive: an instrumentation scope listed in
:data:`ANTHROPIC_EXCLUSIVE_SCOPES` reporting for Anthropic, and any span whose own numbers
prove it (cached + cache-write above input, or reasoning above output: an inclusive total
cannot be smaller than its parts).

Errors: status code 2 (or an ``error.type`` attribute) is an error. ``status.message`` is
free text that may quote the request, so only the ``Error code: NNN`` and the provider's
``type`` / ``code`` identifiers are taken from it (into ``http_status`` and ``error_hint``);
the message itself goes nowhere. Span events (exception messages) are never read.

Bad input: a wrong container type (``spans`` a string, a span a number) is ``bad_structure``;
a list or object where a mapped attribute's value belongs is ``bad_attribute``; scalars of the
wrong kind (``intValue: "abc"``) go on as text for normalize to reject.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from collectors.logs.base import PythonFormat, RecordError, candidate
from collectors.redact import redact

ANTHROPIC_EXCLUSIVE_SCOPES: frozenset[str] = frozenset()
"""Instrumentation scopes known to copy Anthropic's exclusive ``usage.input_tokens`` as is.
None confirmed so far; the arithmetic check in :func:`_includes` catches the evident cases."""

NON_MODEL_OPERATIONS = frozenset(
    {"invoke_agent", "create_agent", "execute_tool", "invoke_workflow"}
)
MAX_DEPTH = 8  # nesting kept when reading arrayValue / kvlistValue

INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.input_tokens.cached",
)
CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.input_tokens.cache_write",
)
REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.output_tokens.reasoning",
)
TTFT_SECONDS = ("gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token")

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_CLASS_REPR = re.compile(r"<class '([\w.]+)'>")
_ERROR_CODE = re.compile(r"Error code: ([1-5][0-9][0-9])\b")
_ERROR_IDS = re.compile(r"""['"](?:type|code)['"]\s*:\s*['"]([A-Za-z0-9_.\-]{1,64})['"]""")
_DIGITS = re.compile(r"[0-9]{1,30}")
_MESSAGE_SCAN = 2000  # characters of status.message scanned for codes


def any_value(v: Any, depth: int = 0) -> Any:
    """An OTLP/JSON ``AnyValue`` as a Python value (``None`` if it is not one).

    ``intValue`` stays as given (int64 is a decimal string in OTLP/JSON); a bare JSON value in
    place of an ``AnyValue`` is taken as is, so loosely written exports still read.
    """
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "intValue", "doubleValue", "boolValue", "bytesValue"):
        if key in v:
            return v[key]
    if depth >= MAX_DEPTH:
        return None
    if isinstance(v.get("arrayValue"), dict):
        values = v["arrayValue"].get("values")
        return [any_value(x, depth + 1) for x in values] if isinstance(values, list) else []
    if isinstance(v.get("kvlistValue"), dict):
        return attributes(v["kvlistValue"].get("values"), depth + 1)
    return None


def attributes(raw: Any, depth: int = 0) -> dict[str, Any]:
    """OTLP ``[{"key": k, "value": AnyValue}]`` (or a plain ``{k: v}`` object) as a dict."""
    if isinstance(raw, dict):
        return {k: any_value(v, depth) for k, v in raw.items() if isinstance(k, str)}
    out: dict[str, Any] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = any_value(item.get("value"), depth)
    return out


def _scalar(v: Any, key: str) -> str | int | float | bool | None:
    """A value going into a candidate column: scalars only, ints of sane size."""
    if v is None or isinstance(v, str | bool | float):
        return v
    if isinstance(v, int):
        return v if v.bit_length() <= 128 else "out_of_range"
    raise RecordError("bad_attribute", f"{key} is not a scalar")


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | int | float | bool | None:
    for key in keys:
        if attrs.get(key) is not None:
            return _scalar(attrs[key], key)
    return None


def _as_int(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and _DIGITS.fullmatch(v.strip()):
        return int(v)
    return None


def _includes(parts: list[Any], total: Any) -> bool:
    """False when the parts add up to more than the total: the count must be exclusive."""
    t = _as_int(total)
    return t is None or sum(_as_int(p) or 0 for p in parts) <= t


def _seconds_to_ms(v: str | int | float | bool | None) -> str | int | float | bool | None:
    if v is None or isinstance(v, bool):
        return v
    try:
        ms = float(v) * 1000.0
    except (TypeError, ValueError, OverflowError):
        return v  # not a number: normalize quarantines it as bad_number
    return round(ms, 3) if math.isfinite(ms) else v


def _error_type(v: str | int | float | bool | None) -> str | int | float | bool | None:
    if isinstance(v, str):
        m = _CLASS_REPR.fullmatch(v.strip())
        if m:
            return m.group(1).rsplit(".", 1)[-1]
    return v


def _message_codes(message: Any) -> tuple[str | None, str | None]:
    """``(http status, hint)`` from a span status message; nothing else of it is kept."""
    if not isinstance(message, str):
        return None, None
    head = message[:_MESSAGE_SCAN]
    m = _ERROR_CODE.search(head)
    ids = list(dict.fromkeys(_ERROR_IDS.findall(head)))[:4]
    parts = ([f"Error code: {m.group(1)}"] if m else []) + ids
    return (m.group(1) if m else None), ("; ".join(parts) or None)


def _span_id(span: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    v = span.get(key)
    s = v.strip().lower() if isinstance(v, str) else ""
    if not pattern.fullmatch(s) or not s.strip("0"):
        shown = repr(redact(v)[:40]) if isinstance(v, str) else type(v).__name__
        raise RecordError("bad_id", f"{key} is not a non-zero hex id: {shown}")
    return s


def _list(container: dict[str, Any], *keys: str) -> list[Any]:
    for key in keys:
        if container.get(key) is not None:
            value = container[key]
            if not isinstance(value, list):
                raise RecordError("bad_structure", f"{key} is not a list")
            return value
    return []


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError("bad_structure", f"{what} is not an object")
    return value


def is_genai(attrs: dict[str, Any]) -> bool:
    if "gen_ai.operation.name" in attrs:
        operation = attrs["gen_ai.operation.name"]
        return not (isinstance(operation, str) and operation in NON_MODEL_OPERATIONS)
    return any(k.startswith(("gen_ai.request.", "gen_ai.usage.")) for k in attrs)


@dataclass(frozen=True)
class OtelFormat(PythonFormat):
    name: ClassVar[str] = "otel"
    family: ClassVar[str] = "otel"
    container: str = "jsonl"

    def extract(self, doc: Any) -> list[dict[str, Any]]:
        if not isinstance(doc, dict):
            raise RecordError("not_otlp", "document is not a JSON object")
        if "resourceSpans" not in doc:
            if "resourceMetrics" in doc or "resourceLogs" in doc:
                return []  # another signal of the same export: nothing to load, nothing wrong
            raise RecordError("not_otlp", "no resourceSpans, resourceMetrics or resourceLogs")
        return list(self._spans(doc))

    def _spans(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for rs in _list(doc, "resourceSpans"):
            rs = _object(rs, "a resourceSpans entry")
            resource = attributes(_object(rs.get("resource"), "resource").get("attributes"))
            for ss in _list(rs, "scopeSpans", "instrumentationLibrarySpans"):
                ss = _object(ss, "a scopeSpans entry")
                scope = ss.get("scope", ss.get("instrumentationLibrary"))
                name = scope.get("name") if isinstance(scope, dict) else None
                scope_name = name if isinstance(name, str) else None
                for span in _list(ss, "spans"):
                    span = _object(span, "a span")
                    attrs = attributes(span.get("attributes"))
                    if is_genai(attrs):
                        yield _row(span, attrs, resource, scope_name)


def _row(
    span: dict[str, Any], attrs: dict[str, Any], resource: dict[str, Any], scope: str | None
) -> dict[str, Any]:
    trace_id = _span_id(span, "traceId", _TRACE_ID)
    span_id = _span_id(span, "spanId", _SPAN_ID)
    status = span["status"] if isinstance(span.get("status"), dict) else {}
    error_type = _error_type(_first(attrs, ("error.type",)))
    failed = status.get("code") in (2, "2", "STATUS_CODE_ERROR") or error_type is not None
    http_status = _first(attrs, ("http.response.status_code", "http.status_code"))
    msg_status, hint = _message_codes(status.get("message")) if failed else (None, None)

    provider = _first(attrs, ("gen_ai.provider.name", "gen_ai.system"))
    requested = _first(attrs, ("gen_ai.request.model",))
    tokens_in, tokens_out = _first(attrs, INPUT), _first(attrs, OUTPUT)
    cached, cache_write = _first(attrs, CACHE_READ), _first(attrs, CACHE_WRITE)
    reasoning = _first(attrs, REASONING)
    exclusive_scope = (
        isinstance(provider, str)
        and provider.lower() == "anthropic"
        and scope in ANTHROPIC_EXCLUSIVE_SCOPES
    )

    def label(*keys: str) -> str | int | float | bool | None:
        value = _first(attrs, keys)
        return value if value is not None else _first(resource, keys)

    return candidate(
        attempt_key=f"{trace_id}:{span_id}",
        logical_request_id=trace_id,
        started_at=_scalar(span.get("startTimeUnixNano"), "startTimeUnixNano"),
        ended_at=_scalar(span.get("endTimeUnixNano"), "endTimeUnixNano"),
        ttft_ms=_seconds_to_ms(_first(attrs, TTFT_SECONDS)),
        provider=provider,
        requested_model=requested,
        served_model=_first(attrs, ("gen_ai.response.model",)) or requested,
        task=label("task", "app.task"),
        team=label("team", "app.team"),
        user_id=label("user.id", "enduser.id"),
        route=_first(resource, ("service.name",)),
        input_tokens=tokens_in,
        cached_input_tokens=cached,
        cache_write_tokens=cache_write,
        output_tokens=tokens_out,
        reasoning_tokens=reasoning,
        input_includes_cached=not exclusive_scope and _includes([cached, cache_write], tokens_in),
        output_includes_reasoning=_includes([reasoning], tokens_out),
        status="error" if failed else "success",
        error_type=error_type,
        error_hint=hint,
        http_status=http_status if http_status is not None else msg_status,
        streamed=_first(attrs, ("gen_ai.request.stream",)),
        reported_cost_usd=_first(attrs, ("gen_ai.usage.cost",)),
    )


FORMAT = OtelFormat()
