"""The demo's log lines as text templates: LiteLLM StandardLoggingPayload and OTLP/JSON spans.

The shapes copy the recorded payloads in ``tests/fixtures/logs/litellm/slp_router_*.json``
(litellm 1.109.1) and ``tests/fixtures/logs/otlp_genai/*.traces.jsonl``: the same keys, the
same nesting, epoch-float timestamps, ``error_information`` on failures. One deliberate
difference: LiteLLM copies its whole price-map entry (about 300 keys, mostly null) into
``model_map_information.model_map_value``; the demo writes the dozen keys that carry values, so
a month of traffic stays a few hundred MB instead of several GB.

A :class:`Template` is the JSON text of a payload with holes (``"@@name@@"``) turned into
``%(name)s`` slots: a line is one ``%`` of pre-rendered JSON fragments, no dict building, so
the generator writes a couple of hundred thousand lines in seconds.
"""

from __future__ import annotations

import json
import re
from typing import Any

_HOLE = re.compile(r'"@@(\w+)@@"')


def hole(name: str) -> str:
    return f"@@{name}@@"


def dumps(value: Any) -> str:
    """Compact JSON (a value as it goes into a slot)."""
    return json.dumps(value, separators=(",", ":"))


class Template:
    """JSON text with ``%(name)s`` slots; ``fixed`` holes are filled once, at construction."""

    __slots__ = ("fmt", "slots")

    def __init__(self, obj: Any, fixed: dict[str, str] | None = None) -> None:
        text = dumps(obj)
        for name, value in (fixed or {}).items():
            text = text.replace(f'"{hole(name)}"', value)
        text = text.replace("%", "%%")
        self.slots = tuple(_HOLE.findall(text))
        self.fmt = _HOLE.sub(lambda m: f"%({m.group(1)})s", text) + "\n"

    def fill(self, values: dict[str, str]) -> str:
        return self.fmt % values


# --- LiteLLM StandardLoggingPayload -------------------------------------------------------

METADATA_KEYS = (
    "user_api_key_hash user_api_key_alias user_api_key_spend user_api_key_max_budget "
    "user_api_key_budget_reset_at user_api_key_user_spend user_api_key_user_max_budget "
    "user_api_key_team_spend user_api_key_team_max_budget user_api_key_team_id "
    "user_api_key_org_id user_api_key_org_alias user_api_key_project_id "
    "user_api_key_project_alias user_api_key_user_id user_api_key_team_alias "
    "user_api_key_user_email user_api_key_end_user_id user_api_key_request_route "
    "spend_logs_metadata requester_ip_address user_agent requester_metadata "
    "prompt_management_metadata applied_guardrails mcp_tool_call_metadata "
    "vector_store_request_metadata routing_decision usage_object requester_custom_headers "
    "cold_storage_object_key user_api_key_auth_metadata team_alias team_id "
    "kubernetes_pod_routing used_client_oauth_token"
).split()

HIDDEN_KEYS = (
    "model_id cache_key api_base response_cost additional_headers litellm_overhead_time_ms "
    "batch_models batch_successful_requests batch_failed_requests litellm_model_name usage_object"
).split()

ERROR_KEYS = (
    "error_code error_class llm_provider traceback error_message error_provider_request_id "
    "error_rate_limit_category error_rate_limit_type error_budget_entity_type "
    "error_budget_entity_id error_budget_limit error_budget_spend error_cooldown_deployments "
    "normalized_error"
).split()

COST_BREAKDOWN_KEYS = (
    "total_cost service_tier data_residency vertex_location input_cost output_cost "
    "tool_usage_cost original_cost discount_percent discount_amount margin_percent "
    "margin_fixed_amount margin_total_amount"
).split()

EMPTY_ERROR: dict[str, Any] = {
    k: ("" if k in ERROR_KEYS[:5] else None) for k in ERROR_KEYS
}  # what LiteLLM writes on a success


def _metadata(usage: Any) -> dict[str, Any]:
    m: dict[str, Any] = dict.fromkeys(METADATA_KEYS)
    m.update(
        user_api_key_hash=hole("key_hash"),
        user_api_key_alias=hole("key_alias"),
        user_api_key_team_id=hole("team_id"),
        user_api_key_team_alias=hole("team"),
        user_api_key_user_id=hole("user"),
        user_api_key_request_route="/chat/completions",
        applied_guardrails=[],
        usage_object=usage,
        team_alias=hole("team"),
        team_id=hole("team_id"),
    )
    return m


def _payload(success: bool) -> dict[str, Any]:
    """The StandardLoggingPayload skeleton (key order as LiteLLM writes it)."""
    return {
        "id": hole("id"),
        "litellm_call_id": hole("call_id"),
        "trace_id": hole("trace_id"),
        "session_id": "",
        "call_type": "acompletion",
        "cache_hit": hole("cache_hit"),
        "stream": hole("stream"),
        "status": "success" if success else "failure",
        "status_fields": {
            "llm_api_status": "success" if success else "failure",
            "guardrail_status": "not_run",
        },
        "custom_llm_provider": hole("provider"),
        "saved_cache_cost": hole("saved_cost"),
        "startTime": hole("start"),
        "endTime": hole("end"),
        "completionStartTime": hole("first"),
        "response_time": hole("response_time"),
        "model": hole("model"),
        "metadata": _metadata(hole("usage") if success else {}),
        "cache_key": hole("cache_key"),
        "cost_finalized": False,
        "response_cost": hole("cost") if success else 0.0,
        "cost_breakdown": (
            {
                **dict.fromkeys(COST_BREAKDOWN_KEYS),
                "total_cost": hole("cost"),
                "input_cost": hole("input_cost"),
                "output_cost": hole("output_cost"),
                "tool_usage_cost": 0.0,
                "original_cost": hole("cost"),
                "discount_percent": 0.0,
                "discount_amount": 0.0,
                "margin_percent": 0.0,
                "margin_fixed_amount": 0.0,
                "margin_total_amount": 0.0,
            }
            if success
            else None
        ),
        "autorouter_savings": None,
        "autorouter_savings_estimate": None,
        "autorouter_baseline_observation": None,
        "total_tokens": hole("total_tokens") if success else 0,
        "prompt_tokens": hole("prompt_tokens") if success else 0,
        "completion_tokens": hole("completion_tokens") if success else 0,
        "request_tags": hole("tags"),
        "request_model_access_groups": [],
        "end_user": None,
        "api_base": "",
        "model_group": hole("group"),
        "model_id": hole("deployment"),
        "requester_ip_address": None,
        "user_agent": None,
        "messages": hole("messages"),
        "response": (
            {
                "id": hole("id"),
                "created": hole("created"),
                "model": hole("map_key"),
                "object": "chat.completion",
                "choices": [
                    {
                        "finish_reason": hole("finish"),
                        "index": 0,
                        "message": {
                            "content": hole("answer"),
                            "role": "assistant",
                            "tool_calls": None,
                            "function_call": None,
                        },
                    }
                ],
                "usage": hole("usage"),
            }
            if success
            else {}
        ),
        "model_parameters": {"stream": hole("stream_param"), "max_tokens": hole("max_tokens")},
        "hidden_params": (
            {
                **dict.fromkeys(HIDDEN_KEYS),
                "model_id": hole("deployment"),
                "cache_key": hole("cache_key"),
                "response_cost": hole("cost"),
                "additional_headers": {
                    "x-litellm-model-group": hole("group"),
                    "x-litellm-attempted-retries": hole("retries"),
                    "x-litellm-attempted-fallbacks": hole("fallbacks"),
                },
                "litellm_model_name": hole("model"),
            }
            if success
            else {**dict.fromkeys(HIDDEN_KEYS), "response_cost": 0.0}
        ),
        "model_map_information": hole("model_map"),
        "error_str": None if success else hole("error_str"),
        "error_information": EMPTY_ERROR if success else hole("error_info"),
        "response_cost_failure_debug_info": None,
        "zero_cost_diagnostic": None,
        "guardrail_information": None,
        "standard_built_in_tools_params": {"web_search_options": None, "file_search": None},
    }


def model_map(model: str, map_key: str, provider: str, prices: tuple[float, ...]) -> str:
    """``model_map_information`` of one model: LiteLLM's price-map entry, compacted."""
    inp, cached, write, out = prices
    value = {
        "key": map_key,
        "max_tokens": 16384,
        "input_cost_per_token": inp / 1e6,
        "output_cost_per_token": out / 1e6,
        "cache_read_input_token_cost": cached / 1e6 or None,
        "cache_creation_input_token_cost": write / 1e6 or None,
        "litellm_provider": provider,
        "mode": "chat",
        "supports_prompt_caching": bool(cached),
        "supports_function_calling": True,
    }
    return dumps({"model_map_key": model, "model_map_value": value})


def slp_templates(fixed: dict[str, str]) -> tuple[Template, Template]:
    """(success, failure) templates for one model (``fixed``: its provider, model, ...)."""
    return Template(_payload(True), fixed), Template(_payload(False), fixed)


USAGE_OPENAI = (
    '{"completion_tokens":%(c)d,"prompt_tokens":%(p)d,"total_tokens":%(t)d,'
    '"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,'
    '"reasoning_tokens":%(r)d,"rejected_prediction_tokens":0,"text_tokens":null},'
    '"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":%(k)d,"text_tokens":null,'
    '"image_tokens":null}}'
)
USAGE_ANTHROPIC = (
    '{"completion_tokens":%(c)d,"prompt_tokens":%(p)d,"total_tokens":%(t)d,'
    '"completion_tokens_details":null,"prompt_tokens_details":{"audio_tokens":null,'
    '"cached_tokens":%(k)d,"text_tokens":null,"image_tokens":null,'
    '"cache_creation_tokens":%(w)d},"cache_creation_input_tokens":%(w)d,'
    '"cache_read_input_tokens":%(k)d}'
)


def usage(style: str, prompt: int, cached: int, write: int, completion: int, reasoning: int) -> str:
    """LiteLLM's OpenAI-shaped usage: prompt includes cached and cache-write tokens,
    completion includes reasoning tokens (LiteLLM's contract for every provider)."""
    values = {
        "c": completion,
        "p": prompt,
        "t": prompt + completion,
        "r": reasoning,
        "k": cached,
        "w": write,
    }
    return (USAGE_ANTHROPIC if style == "anthropic" else USAGE_OPENAI) % values


def error_info(
    provider: str, cls: str, code: str, message: str, normalized: str
) -> tuple[str, str]:
    """(error_str, error_information) JSON fragments for one provider and error kind."""
    info = dict(EMPTY_ERROR)
    info.update(
        error_code=code,
        error_class=cls,
        llm_provider=provider,
        traceback="Traceback (most recent call last):\n"
        '  File "litellm/router.py", line 3180, in async_function_with_retries\n' + message,
        error_message=message,
        error_rate_limit_category="vendor_rate_limit" if code == "429" else None,
        normalized_error=normalized,
    )
    return dumps(message), dumps(info)


# --- OTLP/JSON ----------------------------------------------------------------------------


def attr(key: str, value: str | int | float | bool) -> dict[str, Any]:
    """One OTLP ``KeyValue`` (int64 as a decimal string, as OTLP/JSON writes it)."""
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_line_template(resource: dict[str, str | int | float | bool], scope: str) -> Template:
    """One ``ExportTraceServiceRequest`` per line: a resource, one scope, spans in a slot."""
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr(k, v) for k, v in resource.items()]},
                "scopeSpans": [
                    {"scope": {"name": scope, "version": "2.4b0"}, "spans": hole("spans")}
                ],
                "schemaUrl": "https://opentelemetry.io/schemas/1.37.0",
            }
        ]
    }
    return Template(doc)


SPAN = (
    '{"traceId":"%(trace)s","spanId":"%(span)s","parentSpanId":"%(parent)s",'
    '"name":"chat %(model)s","kind":3,"startTimeUnixNano":"%(start)d",'
    '"endTimeUnixNano":"%(end)d","attributes":%(attrs)s,"status":%(status)s,"flags":256}'
)
ROOT_SPAN = (
    '{"traceId":"%(trace)s","spanId":"%(span)s","name":"POST /v1/complete","kind":2,'
    '"startTimeUnixNano":"%(start)d","endTimeUnixNano":"%(end)d","attributes":'
    '[{"key":"http.request.method","value":{"stringValue":"POST"}},'
    '{"key":"http.route","value":{"stringValue":"/v1/complete"}},'
    '{"key":"http.response.status_code","value":{"intValue":"%(http)d"}}],'
    '"status":%(status)s,"flags":256}'
)
