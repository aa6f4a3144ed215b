"""The IDE autocomplete service: calls the self-hosted acme-coder-7b directly (gpt-4o-mini when
it fails) and reports through OpenTelemetry. One trace per request, written as one OTLP/JSON
``ExportTraceServiceRequest`` line: a server span and one GenAI client span per model call."""

from __future__ import annotations

import random

from app.demo import payloads as pl
from app.demo import spec
from app.demo.traffic import (
    Fragments,
    GenerateResult,
    Key,
    attempt_outcome,
    error_latency,
    timing,
    tokens,
)

_OTEL_ERRORS = {
    "unavailable": ("InternalServerError", "Error code: 503 - {'error': {'message': 'Service Unavailable', 'type': 'service_unavailable', 'param': None, 'code': 'overloaded'}}"),
    "timeout": ("APITimeoutError", "Request timed out."),
    "rate_limit": ("RateLimitError", "Error code: 429 - {'error': {'message': 'Rate limit reached', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}"),
    "server": ("InternalServerError", "Error code: 500 - {'error': {'message': 'Internal server error', 'type': 'server_error', 'param': None, 'code': None}}"),
}  # fmt: skip
_SERVERS = {"acme": "llm.internal.acme.dev", "openai": "api.openai.com"}
_RESPONSE_MODEL = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}


def request(
    rng: random.Random,
    ms: Fragments,
    inc: spec.Incidents,
    key: Key,
    t: float,
    res: GenerateResult,
) -> str:
    """One autocomplete trace: a server span and one GenAI client span per model call."""
    task = spec.AUTOCOMPLETE
    trace = f"{rng.getrandbits(128):032x}"
    root = "%016x" % (rng.getrandbits(64) | 1)
    prompt = tokens(rng, task.prompt, 12_000)
    out = tokens(rng, task.output, 256)
    user = rng.choice(key.user_names)
    spans: list[str] = []
    t0 = t
    ok = False
    for m in (spec.ACME, ms.by_name[spec.OTEL_FALLBACK]):
        kind = attempt_outcome(rng, inc, m, t, prompt)
        res.spans += 1
        attrs = [
            pl.attr("gen_ai.operation.name", "chat"),
            pl.attr("gen_ai.request.model", m.map_key),
            pl.attr("gen_ai.provider.name", m.provider),
            pl.attr("server.address", _SERVERS[m.provider]),
            pl.attr("gen_ai.request.max_tokens", 256),
            pl.attr("gen_ai.request.temperature", 0.2),
            pl.attr("user.id", user),
        ]
        if kind is None:
            ttft, latency = timing(rng, inc, m, t, out, prompt)
            attrs += [
                pl.attr("gen_ai.response.model", _RESPONSE_MODEL.get(m.map_key, m.map_key)),
                pl.attr("gen_ai.response.id", f"chatcmpl-{rng.getrandbits(96):024x}"),
                {
                    "key": "gen_ai.response.finish_reasons",
                    "value": {"arrayValue": {"values": [{"stringValue": "stop"}]}},
                },
                pl.attr("gen_ai.usage.input_tokens", prompt),
                pl.attr("gen_ai.usage.output_tokens", out),
            ]
            status = "{}"
        else:
            latency = error_latency(rng, kind, 10.0)
            cls, message = _OTEL_ERRORS.get(kind, _OTEL_ERRORS["server"])
            attrs.append(pl.attr("error.type", cls))
            status = pl.dumps({"code": 2, "message": message})
            res.errors[f"{m.provider}:{kind}"] += 1
        spans.append(
            pl.SPAN
            % {
                "trace": trace,
                "span": "%016x" % (rng.getrandbits(64) | 1),
                "parent": root,
                "model": m.map_key,
                "start": int(t * 1e9),
                "end": int((t + latency) * 1e9),
                "attrs": pl.dumps(attrs),
                "status": status,
            }
        )
        t += latency
        if kind is None:
            ok = True
            break
        t += 0.002 + rng.random() * 0.01
    root_span = pl.ROOT_SPAN % {
        "trace": trace,
        "span": root,
        "start": int((t0 - 0.001) * 1e9),
        "end": int((t + 0.001) * 1e9),
        "http": 200 if ok else 502,
        "status": "{}" if ok else '{"code":2}',
    }
    return ms.otel_line.fill({"spans": "[" + root_span + "," + ",".join(spans) + "]"})
