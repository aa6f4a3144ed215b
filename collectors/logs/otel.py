"""OpenTelemetry GenAI and OpenInference spans, as OTLP/JSON Lines from the Collector's ``file``
exporter.

Each line is one ``ExportTraceServiceRequest`` (``resourceSpans`` → ``scopeSpans`` → ``spans``);
a metrics or logs batch (``resourceMetrics`` / ``resourceLogs``) yields nothing, a document with
none of the three is :class:`RecordError` ``not_otlp``. Spans are related to each other within
the document (line) they arrive in; docs/log-formats.md says what that means for exports that
cut a trace across lines.

Which spans are model calls: a GenAI span (``gen_ai.operation.name``, or any
``gen_ai.request.*`` / ``gen_ai.usage.*`` attribute) whose operation is not ``invoke_agent``,
``create_agent``, ``execute_tool`` or ``invoke_workflow``; or an OpenInference ``LLM`` /
``EMBEDDING`` span (:mod:`collectors.logs.openinference`). A call with another call beneath it
is a wrapper (a framework's span around the client library's): the inner calls count, the
wrapper is context. Every other span is context: its task, team, user, agent name and
conversation id label the calls beneath it (the call's own label first, then the nearest
ancestor that has it, the resource last). Agent name: ``gen_ai.agent.name``, OpenInference's
``agent.name``, else ``gen_ai.workflow.name`` (an ``invoke_workflow`` span's name up to
semconv 1.41; the GenAI conventions now write it as ``gen_ai.agent.name``). Conversation:
``gen_ai.conversation.id``, else ``session.id`` (OpenInference's). On one span the first
name listed wins (:data:`LABELS`).

A logical request is one call and its retries and fallbacks, never a trace:

* **Tries of one call.** The SDKs retry inside the instrumented call (openai's ``max_retries``
  loop runs inside ``Completions.create``, which openai-v2 wraps, and inside
  ``OpenAI.request``, which OpenInference wraps), so the call span shows only the outcome.
  Each HTTP request is an HTTP client span beneath it when HTTP instrumentation is on
  (``opentelemetry-instrumentation-httpx``): every HTTP child to the same URL as the last one
  but the last is an attempt of its own (status from ``http.[response.]status_code``), and
  the call span is the final attempt, starting when its own HTTP request did. Without HTTP
  spans the retries cannot be seen and the call is one attempt.
* **Retries the application makes** are sibling calls: a call that starts after a failed call
  under the same parent ended, of the same kind (chat or embeddings), continues that call's
  logical request (the nearest such failure, each followed once).
* ``logical_request_id`` is ``traceId:spanId`` of the request's first call; ``attempt_key``
  is ``traceId:spanId`` of the attempt's span; ``attempt_index`` counts from 1 in that order.

Fields: provider ``gen_ai.provider.name`` (current) else ``gen_ai.system`` (semconv 1.36 and
before); requested ``gen_ai.request.model``; served ``gen_ai.response.model``, which failed
calls lack, so the requested model stands; tokens from the current and legacy
``gen_ai.usage.*`` names below. Times are ``*UnixNano`` decimal strings, passed through.

Token counts follow the GenAI conventions (semconv 1.37+): ``input_tokens`` "SHOULD include
all types of input tokens, including cached tokens", reasoning sits inside ``output_tokens``, so
both flags are ``true``, even for Anthropic (the instrumentations we checked add its cache
reads back), except for a scope in :data:`ANTHROPIC_EXCLUSIVE_SCOPES` and any span whose own
numbers prove its counts exclusive (cached + cache write above input, reasoning above output).

Errors: status code 2 or an ``error.type`` attribute; the error type is ``error.type``, else
the ``exception.type`` of an ``exception`` event (all that is read of events). ``status.message``
is free text that may quote the request, so only ``Error code: NNN`` and the provider's
``type`` / ``code`` identifiers are taken from it (``http_status``, ``error_hint``). A call that
got an HTTP error response (400 and up) and logged no usage used none: its tokens are 0; a
failure without a response keeps unknown usage. Prompts and answers are never read.

Bad input: a wrong container type is ``bad_structure``; a call span without valid hex ids is
``bad_id``; a list or object where a mapped attribute's value belongs is ``bad_attribute``;
scalars of the wrong kind go on as text for normalize to reject. A span twice in one document
counts once; parent loops and chains deeper than :data:`MAX_ANCESTRY` end the walk up.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from collectors.logs import openinference
from collectors.logs.base import PythonFormat, RecordError, candidate
from collectors.redact import redact

ANTHROPIC_EXCLUSIVE_SCOPES: frozenset[str] = frozenset()
"""Instrumentation scopes known to copy Anthropic's exclusive ``usage.input_tokens`` as is.
None confirmed so far; the arithmetic check in :func:`_includes` catches the evident cases."""

NON_MODEL_OPERATIONS = frozenset(
    {"invoke_agent", "create_agent", "execute_tool", "invoke_workflow"}
)
MAX_DEPTH = 8  # nesting kept when reading arrayValue / kvlistValue
MAX_ANCESTRY = 64  # parents walked up from a call, for labels and wrappers

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
HTTP_STATUS = ("http.response.status_code", "http.status_code")
HTTP_METHOD = ("http.request.method", "http.method")
LABELS = {
    "task": ("task", "app.task"),
    "team": ("team", "app.team"),
    "agent": ("gen_ai.agent.name", *openinference.AGENT, "gen_ai.workflow.name"),
    "conversation": ("gen_ai.conversation.id", *openinference.SESSION),
}
USER = ("user.id", "enduser.id")

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_CLASS_REPR = re.compile(r"<class '([\w.]+)'>")
_ERROR_CODE = re.compile(r"Error code: ([1-5][0-9][0-9])\b")
_ERROR_IDS = re.compile(r"""['"](?:type|code)['"]\s*:\s*['"]([A-Za-z0-9_.\-]{1,64})['"]""")
_DIGITS = re.compile(r"[0-9]{1,30}")
_EXCEPTION_TYPE = re.compile(r"[A-Za-z_][\w.]{0,199}")
_MESSAGE_SCAN = 2000  # characters of status.message scanned for codes
_EVENT_SCAN = 16  # span events looked at for an exception type


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


def _exception_type(span: dict[str, Any]) -> str | None:
    """The class name of a span's first ``exception`` event; its message is never read."""
    events = span.get("events")
    for event in events[:_EVENT_SCAN] if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("name") == "exception":
            v = attributes(event.get("attributes")).get("exception.type")
            if isinstance(v, str) and _EXCEPTION_TYPE.fullmatch(v.strip()):
                return v.strip().rsplit(".", 1)[-1]
    return None


def _span_id(span: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    v = span.get(key)
    s = v.strip().lower() if isinstance(v, str) else ""
    if not pattern.fullmatch(s) or not s.strip("0"):
        shown = repr(redact(v)[:40]) if isinstance(v, str) else type(v).__name__
        raise RecordError("bad_id", f"{key} is not a non-zero hex id: {shown}")
    return s


def _id_or_none(span: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    try:
        return _span_id(span, key, pattern)
    except RecordError:
        return None


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


def is_call(attrs: dict[str, Any]) -> bool:
    """A model call: an OpenInference LLM/EMBEDDING span, or a GenAI inference span."""
    if openinference.is_openinference(attrs):
        return openinference.is_call(attrs)
    return is_genai(attrs)


@dataclass
class Span:
    """One span of a document, with what grouping needs to know about it."""

    pos: int  # order in the document
    raw: dict[str, Any]
    attrs: dict[str, Any]
    resource: dict[str, Any]
    scope: str | None
    trace: str | None
    span_id: str | None
    parent: str | None
    call: bool
    http: bool
    tries: list[Span] = field(default_factory=list)  # a call's HTTP requests before the last
    final_start: Any = None  # when a call's last HTTP request started, if there were tries

    @property
    def start(self) -> int | None:
        return _as_int(self.raw.get("startTimeUnixNano"))

    @property
    def end(self) -> int | None:
        return _as_int(self.raw.get("endTimeUnixNano"))

    @property
    def failed(self) -> bool:
        status = self.raw.get("status")
        code = status.get("code") if isinstance(status, dict) else None
        return code in (2, "2", "STATUS_CODE_ERROR") or self.attrs.get("error.type") is not None

    @property
    def embeddings(self) -> bool:
        return openinference.is_embedding(self.attrs) or (
            self.attrs.get("gen_ai.operation.name") == "embeddings"
        )


def _read(doc: dict[str, Any]) -> list[Span]:
    spans: list[Span] = []
    for rs in _list(doc, "resourceSpans"):
        rs = _object(rs, "a resourceSpans entry")
        resource = attributes(_object(rs.get("resource"), "resource").get("attributes"))
        for ss in _list(rs, "scopeSpans", "instrumentationLibrarySpans"):
            ss = _object(ss, "a scopeSpans entry")
            scope = ss.get("scope", ss.get("instrumentationLibrary"))
            name = scope.get("name") if isinstance(scope, dict) else None
            for raw in _list(ss, "spans"):
                raw = _object(raw, "a span")
                attrs = attributes(raw.get("attributes"))
                call = is_call(attrs)
                ids = _span_id if call else _id_or_none  # a call without ids is bad input
                parent = raw.get("parentSpanId")  # absent, empty or zeros: a root
                root = parent is None or (isinstance(parent, str) and not parent.strip("0 "))
                spans.append(
                    Span(
                        pos=len(spans),
                        raw=raw,
                        attrs=attrs,
                        resource=resource,
                        scope=name if isinstance(name, str) else None,
                        trace=ids(raw, "traceId", _TRACE_ID),
                        span_id=ids(raw, "spanId", _SPAN_ID),
                        parent=None if root else ids(raw, "parentSpanId", _SPAN_ID),
                        call=call,
                        http=not call
                        and raw.get("kind") in (3, "3", "SPAN_KIND_CLIENT")
                        and any(k in attrs for k in HTTP_METHOD),
                    )
                )
    return spans


def _url(span: Span) -> tuple[Any, ...]:
    a = span.attrs
    full = a.get("url.full", a.get("http.url"))
    if isinstance(full, str):
        return (full.split("?", 1)[0],)
    return (a.get("server.address"), a.get("server.port"), a.get("url.path"))


def _requests(spans: list[Span]) -> tuple[list[list[Span]], dict[tuple[str, str], Span]]:
    """The calls of a document grouped into logical requests, each in attempt order; and the
    spans by id (the first of a span seen twice)."""
    by_id: dict[tuple[str, str], Span] = {}
    for s in spans:
        if s.trace and s.span_id:
            by_id.setdefault((s.trace, s.span_id), s)
    unique = [s for s in spans if not (s.trace and s.span_id) or by_id[(s.trace, s.span_id)] is s]
    wrappers: set[int] = set()
    for s in unique:
        if s.call:
            wrappers.update(a.pos for a in _ancestors(s, by_id) if a.call)
    kids: dict[tuple[str | None, str | None], list[Span]] = {}
    for s in unique:
        if s.http and s.parent:
            kids.setdefault((s.trace, s.parent), []).append(s)
    calls = [s for s in unique if s.call and s.pos not in wrappers]
    for c in calls:
        http = sorted(kids.get((c.trace, c.span_id), []), key=_order)
        c.tries = [h for h in http[:-1] if _url(h) == _url(http[-1])]
        c.final_start = http[-1].raw.get("startTimeUnixNano") if c.tries else None
    groups: list[list[Span]] = []
    waiting: dict[tuple[Any, ...], list[tuple[int, int, int]]] = {}  # failed, not followed
    for c in sorted(calls, key=_order):
        queue = waiting.setdefault((c.trace, c.parent, c.embeddings), [])
        i = bisect.bisect_right(queue, (c.start if c.start is not None else -1, math.inf, 0)) - 1
        if c.start is not None and i >= 0:
            g = queue.pop(i)[2]
            groups[g].append(c)
        else:
            g = len(groups)
            groups.append([c])
        if c.failed and c.end is not None:
            bisect.insort(queue, (c.end, c.pos, g))
    return groups, by_id


def _order(s: Span) -> tuple[int, int, int]:
    start, end = s.start, s.end
    return (start if start is not None else -1, end if end is not None else -1, s.pos)


def _ancestors(s: Span, by_id: dict[tuple[str, str], Span]) -> Iterator[Span]:
    seen = {s.pos}
    parent = s.parent
    for _ in range(MAX_ANCESTRY):
        p = by_id.get((s.trace, parent)) if s.trace and parent else None
        if p is None or p.pos in seen:
            return
        seen.add(p.pos)
        yield p
        parent = p.parent


def _labels(attrs: dict[str, Any], strict: bool) -> dict[str, Any]:
    """A span's own labels (:data:`LABELS`, user): non-scalar values raise if strict, else are
    skipped."""
    out: dict[str, Any] = {}
    for label, keys in (*LABELS.items(), ("user", USER)):
        for key in keys:
            v = attrs.get(key)
            if v is not None and (strict or not isinstance(v, list | dict)):
                out[label] = _scalar(v, key)
                break
    for label, v in openinference.labels(attrs).items():
        out.setdefault(label, v)
    return out


def _context(c: Span, by_id: dict[tuple[str, str], Span]) -> dict[str, Any]:
    found = _labels(c.attrs, strict=True)
    for a in _ancestors(c, by_id):
        for label, v in _labels(a.attrs, strict=False).items():
            found.setdefault(label, v)
    for label, v in _labels(c.resource, strict=True).items():
        found.setdefault(label, v)
    return found


def _fields(c: Span) -> dict[str, Any]:
    """What the call span says about the call, in either dialect, checked as scalars."""
    a = c.attrs

    def get(*keys: str) -> Any:
        return next((a[k] for k in keys if a.get(k) is not None), None)

    genai = {
        "provider": get("gen_ai.provider.name", "gen_ai.system"),
        "requested_model": get("gen_ai.request.model"),
        "served_model": get("gen_ai.response.model"),
        "input_tokens": get(*INPUT),
        "cached_input_tokens": get(*CACHE_READ),
        "cache_write_tokens": get(*CACHE_WRITE),
        "output_tokens": get(*OUTPUT),
        "reasoning_tokens": get(*REASONING),
        "reported_cost_usd": get("gen_ai.usage.cost"),
        "streamed": get("gen_ai.request.stream"),
    }
    if openinference.is_openinference(a):
        oi = openinference.fields(a)
        genai = {k: oi[k] if oi[k] is not None else v for k, v in genai.items()}
    return {k: _scalar(v, k) for k, v in genai.items()}


def _rows(group: list[Span], by_id: dict[tuple[str, str], Span]) -> Iterator[dict[str, Any]]:
    first = group[0]
    request = f"{first.trace}:{first.span_id}"
    index = 0
    for c in group:
        f = _fields(c)
        labels = _context(c, by_id)
        shared = {
            "logical_request_id": request,
            "provider": f["provider"],
            "requested_model": f["requested_model"],
            "task": labels.get("task"),
            "team": labels.get("team"),
            "user_id": labels.get("user"),
            "agent_name": labels.get("agent"),
            "conversation_id": labels.get("conversation"),
            "route": _first(c.resource, ("service.name",)),
            "streamed": f["streamed"],
        }
        for h in c.tries:
            index += 1
            yield _try_row(h, c, index, shared)
        index += 1
        yield _call_row(c, index, f, shared)


def _no_usage(failed: bool, http_status: Any) -> int | None:
    """0 for a call that got an HTTP error response: it carried no usage, so none was billed.
    A failure without a response (timeout, lost connection) has unknown usage: None."""
    code = _as_int(http_status)
    return 0 if failed and code is not None and code >= 400 else None


def _try_row(h: Span, c: Span, index: int, shared: dict[str, Any]) -> dict[str, Any]:
    """An HTTP request of a call that the SDK retried: an attempt that left no tokens."""
    http_status = _first(h.attrs, HTTP_STATUS)
    code = _as_int(http_status)
    error_type = _error_type(_first(h.attrs, ("error.type",)))
    failed = h.failed or (code is not None and code >= 400)
    zero = _no_usage(failed, http_status)
    return candidate(
        attempt_key=f"{c.trace}:{h.span_id}",
        attempt_index=index,
        started_at=_scalar(h.raw.get("startTimeUnixNano"), "startTimeUnixNano"),
        ended_at=_scalar(h.raw.get("endTimeUnixNano"), "endTimeUnixNano"),
        served_model=shared["requested_model"],
        input_tokens=zero,
        output_tokens=zero,
        status="error" if failed else "success",
        error_type=None if _as_int(error_type) is not None else error_type,
        http_status=http_status,
        **shared,
    )


def _call_row(c: Span, index: int, f: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    status = c.raw["status"] if isinstance(c.raw.get("status"), dict) else {}
    failed = c.failed
    error_type = _error_type(_first(c.attrs, ("error.type",)))
    if failed and error_type is None:
        error_type = _exception_type(c.raw)
    msg_status, hint = _message_codes(status.get("message")) if failed else (None, None)
    http_status = _first(c.attrs, HTTP_STATUS)
    if http_status is None:
        http_status = msg_status
    tokens = ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens")
    if all(f[k] is None for k in tokens) and _no_usage(failed, http_status) is not None:
        f = {**f, "input_tokens": 0, "output_tokens": 0}
    tokens_in, cached, cache_write = (
        f["input_tokens"],
        f["cached_input_tokens"],
        f["cache_write_tokens"],
    )
    exclusive_scope = (
        isinstance(f["provider"], str)
        and f["provider"].lower() == "anthropic"
        and c.scope in ANTHROPIC_EXCLUSIVE_SCOPES
    )
    start = c.final_start if c.tries else c.raw.get("startTimeUnixNano")
    return candidate(
        attempt_key=f"{c.trace}:{c.span_id}",
        attempt_index=index,
        started_at=_scalar(start, "startTimeUnixNano"),
        ended_at=_scalar(c.raw.get("endTimeUnixNano"), "endTimeUnixNano"),
        ttft_ms=_seconds_to_ms(_first(c.attrs, TTFT_SECONDS)),
        served_model=f["served_model"] or f["requested_model"],
        input_tokens=tokens_in,
        cached_input_tokens=cached,
        cache_write_tokens=cache_write,
        output_tokens=f["output_tokens"],
        reasoning_tokens=f["reasoning_tokens"],
        input_includes_cached=not exclusive_scope and _includes([cached, cache_write], tokens_in),
        output_includes_reasoning=_includes([f["reasoning_tokens"]], f["output_tokens"]),
        status="error" if failed else "success",
        error_type=error_type,
        error_hint=hint,
        http_status=http_status,
        reported_cost_usd=f["reported_cost_usd"],
        **shared,
    )


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
        spans = _read(doc)
        if not any(s.call for s in spans):
            return []
        groups, by_id = _requests(spans)
        return [row for group in groups for row in _rows(group, by_id)]


FORMAT = OtelFormat()
