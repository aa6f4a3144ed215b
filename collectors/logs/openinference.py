"""OpenInference spans (Arize Phoenix's conventions), read by the ``otel`` format.

OpenInference traces are OTLP like any other, so they come through :mod:`collectors.logs.otel`
(one export can mix them with GenAI spans); this module only says what their attributes mean.

* ``openinference.span.kind`` ``LLM`` and ``EMBEDDING`` are model calls; ``CHAIN``, ``AGENT``,
  ``TOOL``, ``RETRIEVER`` and the other kinds are context (:func:`is_call`).
* Provider: ``llm.provider``, else ``llm.system``. Requested model: ``llm.request.model_name``,
  else ``model`` in the ``llm.invocation_parameters`` JSON (the only place OpenInference's
  OpenAI instrumentation writes it). Served model: ``llm.response.model_name``, else
  ``llm.model_name`` (the response's model on a success); a failed call has neither, so the
  requested model stands. Embeddings: ``embedding.model_name`` / ``embedding.invocation_parameters``.
* Tokens: ``llm.token_count.prompt`` (OpenAI-style, cached tokens inside), ``.completion``,
  ``.prompt_details.cache_read`` (older ``cache_input``), ``.prompt_details.cache_write``,
  ``.completion_details.reasoning``. Reported cost: ``llm.cost.total``, else prompt + completion.
* Labels: OpenInference propagates ``metadata`` (a JSON object as text) and ``tag.tags`` from
  ``using_attributes`` to every span; a ``task`` / ``team`` key of the metadata, or a
  ``task:<name>`` tag, labels the span (``user.id`` is read as for any span). The agent's
  name is ``agent.name`` (:data:`AGENT`, on the ``AGENT`` span) and the conversation is
  ``session.id`` (:data:`SESSION`; ``using_attributes(session_id=...)`` / ``using_session``
  copy it onto every span inside, the LLM spans too); ``otel`` reads both like ``user.id``.
  ``graph.node.name`` is not read: it names a node of the execution graph (a chain, a tool,
  a router as much as an agent), not the agent.

Prompts (``input.value``, ``llm.input_messages.*``) and answers are never read.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

KIND = "openinference.span.kind"
CALL_KINDS = frozenset({"LLM", "EMBEDDING"})
MAX_JSON = 65_536  # characters of a JSON-valued attribute worth parsing
AGENT = ("agent.name",)
SESSION = ("session.id",)


def is_openinference(attrs: dict[str, Any]) -> bool:
    return isinstance(attrs.get(KIND), str)


def is_call(attrs: dict[str, Any]) -> bool:
    kind = attrs.get(KIND)
    return isinstance(kind, str) and kind.upper() in CALL_KINDS


def is_embedding(attrs: dict[str, Any]) -> bool:
    kind = attrs.get(KIND)
    return isinstance(kind, str) and kind.upper() == "EMBEDDING"


def _json_object(v: Any) -> dict[str, Any]:
    """A JSON-object attribute (text, or already a map); anything else is empty."""
    if isinstance(v, dict):
        return v
    if not isinstance(v, str) or len(v) > MAX_JSON:
        return {}
    try:
        parsed = json.loads(v)
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _get(attrs: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if attrs.get(key) is not None:
            return attrs[key]
    return None


def _cost(attrs: dict[str, Any]) -> Any:
    total = attrs.get("llm.cost.total")
    if total is not None:
        return total
    parts = [attrs.get("llm.cost.prompt"), attrs.get("llm.cost.completion")]
    if all(p is None for p in parts):
        return None
    try:
        return str(sum(Decimal(str(p)) for p in parts if p is not None))
    except (InvalidOperation, ValueError):
        return next(p for p in parts if p is not None)  # normalize says bad_cost


def fields(attrs: dict[str, Any]) -> dict[str, Any]:
    """Candidate values of one OpenInference call span, as the span has them (not checked)."""
    params = _json_object(
        _get(attrs, "llm.invocation_parameters", "embedding.invocation_parameters")
    )
    requested = _get(attrs, "llm.request.model_name")
    if requested is None and isinstance(params.get("model"), str):
        requested = params["model"]
    stream = params.get("stream")
    return {
        "provider": _get(attrs, "llm.provider", "llm.system"),
        "requested_model": requested,
        "served_model": _get(
            attrs, "llm.response.model_name", "llm.model_name", "embedding.model_name"
        ),
        "input_tokens": _get(attrs, "llm.token_count.prompt"),
        "cached_input_tokens": _get(
            attrs,
            "llm.token_count.prompt_details.cache_read",
            "llm.token_count.prompt_details.cache_input",
        ),
        "cache_write_tokens": _get(attrs, "llm.token_count.prompt_details.cache_write"),
        "output_tokens": _get(attrs, "llm.token_count.completion"),
        "reasoning_tokens": _get(attrs, "llm.token_count.completion_details.reasoning"),
        "reported_cost_usd": _cost(attrs),
        "streamed": stream if isinstance(stream, bool) else None,
    }


def labels(attrs: dict[str, Any]) -> dict[str, Any]:
    """``task`` / ``team`` from a span's ``metadata`` object or ``task:<name>`` tags."""
    out: dict[str, Any] = {}
    metadata = _json_object(attrs.get("metadata"))
    for label in ("task", "team"):
        value = metadata.get(label)
        if isinstance(value, str | int) and not isinstance(value, bool):
            out[label] = value
    tags = attrs.get("tag.tags")
    if "task" not in out and isinstance(tags, list):
        for tag in tags[:64]:
            if isinstance(tag, str) and tag.startswith("task:") and tag[5:].strip():
                out["task"] = tag[5:].strip()
                break
    return out
