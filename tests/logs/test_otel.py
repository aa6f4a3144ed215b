"""OTel GenAI spans -> candidate rows (collectors/logs/otel.py), on recorded and built inputs.

Golden tables below were read by hand from the fixture lines (see the SOURCES.md beside them);
a candidate column not named in an expected row must be empty.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.logs.base import CANDIDATE_COLUMNS, RecordError
from collectors.logs.otel import FORMAT, any_value, attributes
from tests.logs.helpers import check_extract_contract

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
LATEST = FIX / "otlp_genai" / "openai-v2_2.4b0_latest-experimental.traces.jsonl"
LEGACY = FIX / "otlp_genai" / "openai-v2_2.1b0_legacy.traces.jsonl"
METRICS = sorted((FIX / "otlp_genai").glob("*.metrics.jsonl"))
BUILT = FIX / "otlp_genai_constructed" / "constructed.traces.jsonl"

FLAGS = {"input_includes_cached": "true", "output_includes_reasoning": "true"}
NOT_FOUND = {
    "input_tokens": "0",  # an HTTP error response carries no usage: nothing was used
    "output_tokens": "0",
    "status": "error",
    "error_type": "NotFoundError",
    "error_hint": "Error code: 404; invalid_request_error; model_not_found",
    "http_status": "404",
}


def docs(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rows_by_line(path: Path) -> list[list[dict[str, Any]]]:
    return [FORMAT.extract(doc) for doc in docs(path)]


def full(**values: str) -> dict[str, str | None]:
    """An expected candidate: the named columns, every other column empty."""
    return {c: values.get(c) for c in CANDIDATE_COLUMNS}


def chat(trace: str, span: str, start: str, end: str, **values: str) -> dict[str, str | None]:
    """A call that is a logical request of its own: its first and only attempt."""
    return full(
        attempt_key=f"{trace}:{span}",
        logical_request_id=f"{trace}:{span}",
        attempt_index="1",
        started_at=start,
        ended_at=end,
        provider="openai",
        **FLAGS,
        **values,
    )


# --- golden: real recordings ---------------------------------------------------------------

SUPPORT = {"route": "support-bot", "status": "success"}
LATEST_EXPECTED = [
    # 1 test_chat_completion_with_content
    [chat("f46a8c33d0eadee94491041519b451ed", "b61606548093a020",
          "1795413335905020112", "1795413335924814304", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="12", output_tokens="5", **SUPPORT)],
    # 2 test_chat_completion_streaming (no gen_ai.request.stream attribute: streamed unknown)
    [chat("968a8cc466ae7474a953a3f5a4a9c874", "164657f75da05acc",
          "1795413335992858983", "1795413336005297753", requested_model="gpt-4",
          served_model="gpt-4-0613", input_tokens="12", output_tokens="5", **SUPPORT)],
    # 3 tool calls
    [chat("93f8eb0f52ea25449b4ecfcb7460e275", "fff25181a3af084f",
          "1795413336086735132", "1795413336093606396", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="75", output_tokens="51", **SUPPORT)],
    # 4 multiple choices
    [chat("8e51fc797b131c60303c11123b6c764d", "68d5eb524ca6419a",
          "1795413336159075853", "1795413336163333612", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="12", output_tokens="24", **SUPPORT)],
    # 5 extra params
    [chat("2f01e4c484ec9d4f9a550d6c91a8fc62", "55780ba04fea819f",
          "1795413336229783228", "1795413336235429283", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="12", output_tokens="12", **SUPPORT)],
    # 6 chat 404: error.type "<class 'openai.NotFoundError'>" -> NotFoundError
    [chat("ffdd91a04046c12e9ebe7a3b46d648af", "b64be53e60e07fb0",
          "1795413336298920367", "1795413336302733332", requested_model="this-model-does-not-exist",
          served_model="this-model-does-not-exist", route="support-bot", **NOT_FOUND)],
    # 7 embeddings: a paid call, kept as an attempt (input tokens only)
    [chat("37149f1cf4db371579e90571cdfc2d6e", "076e8cf9d725b586",
          "1795413336411280881", "1795413336424581128", requested_model="text-embedding-3-small",
          served_model="text-embedding-3-small", input_tokens="6", **SUPPORT)],
    # 8 embeddings 404: error.type already "NotFoundError"
    [chat("a5fc343ad0bf7203af7214baa6529113", "a92e843de24d14da",
          "1795413336487930957", "1795413336491323493",
          requested_model="non-existent-embedding-model",
          served_model="non-existent-embedding-model", route="support-bot", **NOT_FOUND)],
]  # fmt: skip

BILLING = {"route": "billing-summarizer", "status": "success"}
LEGACY_EXPECTED = [
    # 1 no content
    [chat("fe31daf6e291545b90f90e80580e4419", "f0d5a6728282e84d",
          "1795413400717285520", "1795413400734156838", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="12", output_tokens="5", **BILLING)],
    # 2 multiple tools, streaming
    [chat("020c9afd56ef47ff97ebe107f6940176", "3378cc8f035603f3",
          "1795413400806301791", "1795413400823608776", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="75", output_tokens="51", **BILLING)],
    # 3 streaming not complete: the stream was abandoned, no usage on the span -> no tokens
    [chat("26c225e209174f098b2e144334282ef2", "12abd8c644813089",
          "1795413400890005613", "1795413400895695730", requested_model="gpt-4",
          served_model="gpt-4-0613", **BILLING)],
    # 4 handles NOT_GIVEN
    [chat("04e956770b930a146a39369ed8f8f452", "a3c738498bcd13f7",
          "1795413400962837785", "1795413400967867493", requested_model="gpt-4o-mini",
          served_model="gpt-4o-mini-2024-07-18", input_tokens="12", output_tokens="12", **BILLING)],
    # 5 chat 404 (legacy already writes the bare class name)
    [chat("17f9b810d9689b8a84ea91f2cf380a9d", "cc5968a2429db492",
          "1795413401032304423", "1795413401036141933", requested_model="this-model-does-not-exist",
          served_model="this-model-does-not-exist", route="billing-summarizer", **NOT_FOUND)],
]  # fmt: skip


def test_latest_experimental_traces_golden() -> None:
    assert rows_by_line(LATEST) == LATEST_EXPECTED


def test_legacy_traces_golden() -> None:
    assert rows_by_line(LEGACY) == LEGACY_EXPECTED


def test_both_dialects_name_the_provider_openai() -> None:
    latest, legacy = docs(LATEST)[0], docs(LEGACY)[0]

    def keys(doc: dict[str, Any]) -> set[str]:
        first = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        return {a["key"] for a in first["attributes"]}

    assert "gen_ai.provider.name" in keys(latest) and "gen_ai.system" not in keys(latest)
    assert "gen_ai.system" in keys(legacy) and "gen_ai.provider.name" not in keys(legacy)
    assert (
        FORMAT.extract(latest)[0]["provider"] == FORMAT.extract(legacy)[0]["provider"] == "openai"
    )


@pytest.mark.parametrize("path", METRICS, ids=lambda p: p.name)
def test_metrics_batches_yield_nothing(path: Path) -> None:
    lines = docs(path)
    assert lines and all("resourceMetrics" in d for d in lines)
    assert [FORMAT.extract(d) for d in lines] == [[] for _ in lines]


def test_status_message_text_goes_nowhere() -> None:
    rows = [r for line in rows_by_line(LATEST) + rows_by_line(LEGACY) for r in line]
    for row in rows:
        for value in row.values():
            assert "does not exist or you do not have access" not in (value or "")


# --- golden: constructed recording --------------------------------------------------------


def test_constructed_traces_golden() -> None:
    agent_trace, retry_trace = (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0af7651916cd43dd8448eb211c80319c",
    )
    anthropic = {
        "provider": "anthropic",
        "requested_model": "claude-sonnet-4-5",
        "served_model": "claude-sonnet-4-5-20250929",
        "route": "research-agent",
        "team": "growth",
        "agent_name": "researcher",  # the invoke_agent span's gen_ai.agent.name
        "status": "success",
    }
    openai = {
        "provider": "openai",
        "requested_model": "gpt-4o",
        "route": "support-bot",
        "task": "triage",
        "logical_request_id": f"{retry_trace}:b7ad6b7169203331",  # the first call's span
        **FLAGS,
    }
    assert rows_by_line(BUILT) == [
        # line 1: the invoke_agent span and the HTTP span are context; two calls, one after
        # the other succeeded: two logical requests of one attempt each
        [
            full(
                attempt_key=f"{agent_trace}:53995c3f42cd8ad8",
                logical_request_id=f"{agent_trace}:53995c3f42cd8ad8",
                attempt_index="1",
                started_at="1748779200100000000",
                ended_at="1748779202350000000",
                ttft_ms="420.0",  # 0.42 s
                task="summarize",  # span app.task
                user_id="u-17",
                input_tokens="1200",
                cached_input_tokens="1000",
                cache_write_tokens="100",
                output_tokens="300",
                reasoning_tokens="120",
                streamed="true",
                reported_cost_usd="0.0123",
                **FLAGS,
                **anthropic,
            ),
            full(
                attempt_key=f"{agent_trace}:a2fb4a1d1a96d312",
                logical_request_id=f"{agent_trace}:a2fb4a1d1a96d312",
                attempt_index="1",
                started_at="1748779202400000000",
                ended_at="1748779204900000000",
                task="cite-check",  # span task
                input_tokens="50",
                cached_input_tokens="1000",
                output_tokens="80",
                input_includes_cached="false",  # 1000 cached cannot sit inside 50 input
                output_includes_reasoning="true",
                **anthropic,
            ),
        ],
        # line 2: a 429, then a sibling call after it: its retry, one logical request
        [
            full(
                attempt_key=f"{retry_trace}:b7ad6b7169203331",
                attempt_index="1",
                started_at="1748779260000000000",
                ended_at="1748779260180000000",
                served_model="gpt-4o",
                status="error",
                error_type="RateLimitError",
                error_hint="Error code: 429; tokens; rate_limit_exceeded",
                http_status="429",
                input_tokens="0",  # the 429 response carried no usage
                output_tokens="0",
                **openai,
            ),
            full(
                attempt_key=f"{retry_trace}:5fb397be34d26b51",
                attempt_index="2",
                started_at="1748779261700000000",
                ended_at="1748779263100000000",
                served_model="gpt-4o-2024-08-06",
                status="success",
                team="support",  # span team
                user_id="agent-42",  # enduser.id
                input_tokens="812",  # legacy prompt_tokens
                cached_input_tokens="512",  # legacy cache_read_input_tokens
                output_tokens="95",  # legacy completion_tokens
                **openai,
            ),
        ],
        [],  # line 3: a resourceLogs batch
    ]


# --- mapping details on small built spans ------------------------------------------------

TRACE, SPAN = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"


def attr(key: str, value: Any) -> dict[str, Any]:
    """An OTLP attribute; ints become intValue decimal strings, as the exporter writes them."""
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    kind = "doubleValue" if isinstance(value, float) else "stringValue"
    return {"key": key, "value": {kind: value}}


def batch(*spans: dict[str, Any], resource: list[Any] | None = None) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": resource or []},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
            }
        ]
    }


def span(*attrs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    base = {
        "traceId": TRACE,
        "spanId": SPAN,
        "name": "chat m",
        "startTimeUnixNano": "1748779200000000000",
        "endTimeUnixNano": "1748779201000000000",
        "attributes": [
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.request.model", "m"),
            *attrs,
        ],
        "status": {},
    }
    return {**base, **fields}


def one(*attrs: dict[str, Any], resource: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    rows = FORMAT.extract(batch(span(*attrs, **fields), resource=resource))
    assert len(rows) == 1
    return rows[0]


def test_any_value_kinds() -> None:
    assert any_value({"stringValue": "a"}) == "a"
    assert any_value({"intValue": "12"}) == "12"
    assert any_value({"doubleValue": 0.5}) == 0.5
    assert any_value({"boolValue": False}) is False
    assert any_value({"bytesValue": "AAE="}) == "AAE="
    assert any_value({"arrayValue": {"values": [{"stringValue": "stop"}, {"intValue": "2"}]}}) == [
        "stop",
        "2",
    ]
    assert any_value({"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}) == {
        "k": True
    }
    assert any_value({"arrayValue": {}}) == []
    assert any_value({}) is None
    assert any_value(7) == 7  # a bare value where an AnyValue belongs


def test_attributes_accepts_a_flat_object_and_skips_broken_entries() -> None:
    assert attributes({"gen_ai.request.model": "m", "n": {"intValue": "3"}}) == {
        "gen_ai.request.model": "m",
        "n": "3",
    }
    assert attributes(
        [{"key": 1}, "x", {"value": {}}, {"key": "ok", "value": {"stringValue": "v"}}]
    ) == {"ok": "v"}
    assert attributes("not a list") == {}


def test_legacy_and_latest_token_names() -> None:
    row = one(
        attr("gen_ai.usage.prompt_tokens", 10),
        attr("gen_ai.usage.completion_tokens", 4),
        attr("gen_ai.usage.input_tokens.cached", 3),
        attr("gen_ai.usage.cache_creation_input_tokens", 2),
        attr("gen_ai.usage.reasoning_tokens", 1),
    )
    assert (row["input_tokens"], row["output_tokens"]) == ("10", "4")
    assert (row["cached_input_tokens"], row["cache_write_tokens"], row["reasoning_tokens"]) == (
        "3",
        "2",
        "1",
    )
    latest_wins = one(attr("gen_ai.usage.input_tokens", 11), attr("gen_ai.usage.prompt_tokens", 10))
    assert latest_wins["input_tokens"] == "11"


def test_reasoning_above_output_marks_output_exclusive() -> None:
    row = one(
        attr("gen_ai.usage.output_tokens", 5), attr("gen_ai.usage.reasoning.output_tokens", 50)
    )
    assert row["output_includes_reasoning"] == "false"


def test_provider_name_preferred_over_system() -> None:
    row = one(
        attr("gen_ai.system", "az.ai.openai"), attr("gen_ai.provider.name", "azure.ai.openai")
    )
    assert row["provider"] == "azure.ai.openai"


def test_labels_span_before_resource() -> None:
    resource = [
        attr("task", "res-task"),
        attr("app.team", "res-team"),
        attr("enduser.id", "res-user"),
        attr("service.name", "svc"),
    ]
    assert (one(resource=resource)["task"], one(resource=resource)["team"]) == (
        "res-task",
        "res-team",
    )
    row = one(
        attr("app.task", "span-task"),
        attr("team", "span-team"),
        attr("user.id", "u"),
        resource=resource,
    )
    assert (row["task"], row["team"], row["user_id"], row["route"]) == (
        "span-task",
        "span-team",
        "u",
        "svc",
    )


def test_agent_name_and_conversation_id_by_every_name() -> None:
    """Current GenAI names, OpenInference's, and the workflow name of semconv 1.41 and before;
    on one span the current name wins, the call's own label wins over the resource's."""
    row = one(attr("gen_ai.agent.name", "planner"), attr("gen_ai.conversation.id", "conv-1"))
    assert (row["agent_name"], row["conversation_id"]) == ("planner", "conv-1")
    row = one(attr("agent.name", "researcher"), attr("session.id", "sess-9"))
    assert (row["agent_name"], row["conversation_id"]) == ("researcher", "sess-9")
    assert one(attr("gen_ai.workflow.name", "triage_pipeline"))["agent_name"] == "triage_pipeline"
    every = one(
        attr("gen_ai.workflow.name", "w"),
        attr("agent.name", "oi"),
        attr("gen_ai.agent.name", "current"),
        attr("session.id", "oi-session"),
        attr("gen_ai.conversation.id", "current-conversation"),
    )
    assert (every["agent_name"], every["conversation_id"]) == ("current", "current-conversation")
    resource = [attr("gen_ai.agent.name", "res-agent"), attr("session.id", "res-session")]
    assert (one(resource=resource)["agent_name"], one(resource=resource)["conversation_id"]) == (
        "res-agent",
        "res-session",
    )
    own = one(attr("agent.name", "own"), resource=resource)
    assert (own["agent_name"], own["conversation_id"]) == ("own", "res-session")
    bare = one(attr("gen_ai.agent.id", "agent-7"), attr("graph.node.name", "router"))
    assert (bare["agent_name"], bare["conversation_id"]) == (None, None)  # neither names one


def test_agent_name_and_conversation_id_of_odd_kinds() -> None:
    """Scalars go on as text (normalize cuts and redacts them); a list or map on the call span
    or the resource is bad input, as for the task."""
    assert one(attr("gen_ai.conversation.id", 42))["conversation_id"] == "42"  # intValue "42"
    assert one(attr("gen_ai.agent.name", True))["agent_name"] == "true"
    assert one(attr("session.id", 1.5))["conversation_id"] == "1.5"
    big = {"key": "gen_ai.conversation.id", "value": {"intValue": 10**200}}
    assert one(big)["conversation_id"] == "out_of_range"
    huge = "a" * 1_000_000
    assert one(attr("gen_ai.agent.name", huge))["agent_name"] == huge  # cut by normalize
    control = "agent\x00\x1b[31m\r\nname\u202e"
    assert one(attr("gen_ai.agent.name", control))["agent_name"] == control
    as_list = {"key": "gen_ai.agent.name", "value": {"arrayValue": {"values": []}}}
    as_map = {"key": "session.id", "value": {"kvlistValue": {"values": []}}}
    for bad in (as_list, as_map):
        with pytest.raises(RecordError) as e:
            one(bad)
        assert e.value.reason == "bad_attribute"
        with pytest.raises(RecordError) as e:
            one(resource=[bad])
        assert e.value.reason == "bad_attribute"


def test_http_status_attribute_wins_over_message() -> None:
    row = one(
        attr("http.response.status_code", 503),
        status={"code": 2, "message": "Error code: 500 - boom"},
    )
    assert (row["status"], row["http_status"], row["error_hint"]) == (
        "error",
        "503",
        "Error code: 500",
    )


def test_error_without_codes_in_message() -> None:
    row = one(status={"code": 2, "message": "Connection error. my prompt text here"})
    assert (row["status"], row["http_status"], row["error_hint"], row["error_type"]) == (
        "error",
        None,
        None,
        None,
    )


def test_error_type_alone_marks_an_error_and_class_repr_is_unwrapped() -> None:
    row = one(attr("error.type", "<class 'anthropic.RateLimitError'>"))
    assert (row["status"], row["error_type"]) == ("error", "RateLimitError")
    assert one(status={"code": "STATUS_CODE_ERROR"})["status"] == "error"
    assert one(status={"code": 1})["status"] == one(status={"code": 0})["status"] == "success"


def test_ttft_seconds_to_ms_and_stream_flag() -> None:
    row = one(attr("gen_ai.server.time_to_first_token", 1.5), attr("gen_ai.request.stream", False))
    assert (row["ttft_ms"], row["streamed"]) == ("1500.0", "false")
    not_a_number = one(attr("gen_ai.response.time_to_first_chunk", "soon"))
    assert not_a_number["ttft_ms"] == "soon"  # passed on as is: normalize says bad_number


def test_which_spans_are_attempts() -> None:
    def count(*attrs: dict[str, Any]) -> int:
        return len(FORMAT.extract(batch({**span(), "attributes": list(attrs)})))

    assert count(attr("gen_ai.operation.name", "embeddings")) == 1
    assert count(attr("gen_ai.operation.name", "text_completion")) == 1
    assert count(attr("gen_ai.request.model", "m")) == 1  # no operation name, a request attribute
    assert count(attr("gen_ai.usage.input_tokens", 3)) == 1
    for op in ("invoke_agent", "create_agent", "execute_tool", "invoke_workflow"):
        assert count(attr("gen_ai.operation.name", op), attr("gen_ai.request.model", "m")) == 0
    assert count(attr("gen_ai.system", "openai")) == 0  # names a system, calls nothing
    assert count(attr("http.request.method", "POST")) == 0
    assert count() == 0


def test_ids_are_validated_and_lowercased() -> None:
    assert one(traceId=TRACE.upper())["attempt_key"] == f"{TRACE}:{SPAN}"
    for bad in (
        {"traceId": "0" * 32},
        {"spanId": "0" * 16},
        {"traceId": "W46oM9d6pI5Kzy3QUnQhiA=="},
        {"spanId": SPAN[:-1]},
        {"traceId": None},
        {"spanId": 12345},
    ):
        with pytest.raises(RecordError) as e:
            FORMAT.extract(batch(span(**bad)))
        assert e.value.reason == "bad_id"


def test_duplicated_span_counts_once() -> None:
    """A span twice in one document is one attempt (a failed copy is no retry of itself);
    the same span in two documents is the engine's to deduplicate, by its key."""
    failed = span(status={"code": 2})
    rows = FORMAT.extract(batch(failed, failed))
    assert len(rows) == 1 and rows[0]["attempt_index"] == "1"
    line = docs(LATEST)[0]
    assert FORMAT.extract(line) == FORMAT.extract(copy.deepcopy(line))


# --- malformed, truncated, hostile --------------------------------------------------------


@pytest.mark.parametrize("doc", [None, 1, "x", [], [{"resourceSpans": []}], {}, {"resource": {}}])
def test_not_otlp(doc: Any) -> None:
    with pytest.raises(RecordError) as e:
        FORMAT.extract(doc)
    assert e.value.reason == "not_otlp"


@pytest.mark.parametrize(
    "doc",
    [
        {"resourceSpans": "spans"},
        {"resourceSpans": [1]},
        {"resourceSpans": [{"scopeSpans": {"spans": []}}]},
        {"resourceSpans": [{"resource": [], "scopeSpans": []}]},
        {"resourceSpans": [{"scopeSpans": ["x"]}]},
        {"resourceSpans": [{"scopeSpans": [{"spans": "a string"}]}]},
        {"resourceSpans": [{"scopeSpans": [{"spans": [7]}]}]},
    ],
)
def test_wrong_container_types_are_bad_structure(doc: Any) -> None:
    with pytest.raises(RecordError) as e:
        FORMAT.extract(doc)
    assert e.value.reason == "bad_structure"


@pytest.mark.parametrize(
    "doc",
    [
        {"resourceSpans": []},
        {"resourceSpans": None},
        {"resourceSpans": [{}]},
        {"resourceSpans": [{"scopeSpans": None}]},
        {"resourceSpans": [{"scopeSpans": [{}]}]},
        {"resourceSpans": [{"scopeSpans": [{"spans": [None]}]}]},
        {"resourceLogs": []},
        {"resourceMetrics": "anything"},
    ],
)
def test_empty_batches_yield_nothing(doc: Any) -> None:
    assert FORMAT.extract(doc) == []


def test_wrong_attribute_shapes() -> None:
    flat = span(attributes={"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 3})
    assert FORMAT.extract(batch(flat))[0]["input_tokens"] == "3"
    assert FORMAT.extract(batch(span(attributes="gen_ai.request.model=m"))) == []
    not_a_number = one(attr("gen_ai.usage.input_tokens", "abc"))
    assert not_a_number["input_tokens"] == "abc"  # passed on as is: normalize says bad_number
    with pytest.raises(RecordError) as e:
        one({"key": "gen_ai.usage.input_tokens", "value": {"arrayValue": {"values": []}}})
    assert e.value.reason == "bad_attribute"


def test_missing_fields_leave_columns_empty() -> None:
    bare = {"traceId": TRACE, "spanId": SPAN, "attributes": [attr("gen_ai.request.model", "m")]}
    row = FORMAT.extract({"resourceSpans": [{"scopeSpans": [{"spans": [bare]}]}]})[0]
    assert (row["started_at"], row["ended_at"], row["status"], row["route"]) == (
        None,
        None,
        "success",
        None,
    )


def test_truncated_line() -> None:
    line = LATEST.read_text().splitlines()[5]
    with pytest.raises(ValueError):  # the caller's JSON error: quarantined as invalid_json
        json.loads(line[: len(line) // 2])
    whole = json.loads(line)
    span0 = whole["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key in list(span0):  # every partial span: candidates or RecordError, nothing else
        cut = copy.deepcopy(whole)
        del cut["resourceSpans"][0]["scopeSpans"][0]["spans"][0][key]
        try:
            FORMAT.extract(cut)
        except RecordError:
            pass


def test_hostile_strings_pass_through_as_text() -> None:
    row = one(
        attr("gen_ai.response.model", "<script>alert(1)</script>"),
        attr("task", "'; DROP TABLE x; --"),
    )
    assert row["served_model"] == "<script>alert(1)</script>"  # escaping is the display's job
    assert row["task"] == "'; DROP TABLE x; --"


def test_ten_thousand_spans_in_one_batch() -> None:
    spans = [span(spanId=f"{i + 1:016x}") for i in range(10_000)]
    rows = FORMAT.extract(batch(*spans))
    assert len(rows) == 10_000 and len({r["attempt_key"] for r in rows}) == 10_000


def test_deeply_nested_attribute_arrays() -> None:
    value: dict[str, Any] = {"stringValue": "deep"}
    for _ in range(5_000):
        value = {"arrayValue": {"values": [value]}}
    row = one({"key": "gen_ai.response.finish_reasons", "value": value})
    assert row["status"] == "success"
    with pytest.raises(RecordError):
        one({"key": "gen_ai.request.model", "value": value})


def test_huge_numbers() -> None:
    assert one(attr("gen_ai.usage.input_tokens", "9" * 5000))["input_tokens"] == "9" * 5000
    big = {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 10**200}}
    assert one(big)["output_tokens"] == "out_of_range"
    huge_ttft = {"key": "gen_ai.response.time_to_first_chunk", "value": {"intValue": 10**200}}
    assert one(huge_ttft)["ttft_ms"] == "out_of_range"
    long_message = "Error code: 404 - " + "x" * 1_000_000
    assert one(status={"code": 2, "message": long_message})["http_status"] == "404"


# --- property: arbitrary JSON ---------------------------------------------------------------

OTLP_WORDS = [
    "resourceSpans",
    "resourceMetrics",
    "resource",
    "attributes",
    "scopeSpans",
    "scope",
    "name",
    "spans",
    "traceId",
    "spanId",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "status",
    "code",
    "message",
    "key",
    "value",
    "stringValue",
    "intValue",
    "doubleValue",
    "boolValue",
    "arrayValue",
    "kvlistValue",
    "values",
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.provider.name",
    "error.type",
    "service.name",
    "task",
    "parentSpanId",
    "kind",
    "events",
    "exception",
    "exception.type",
    "http.method",
    "http.status_code",
    "openinference.span.kind",
    "LLM",
    "llm.invocation_parameters",
    "metadata",
    "tag.tags",
    "gen_ai.agent.name",
    "gen_ai.conversation.id",
    "agent.name",
    "session.id",
]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
ids = st.sampled_from([TRACE, SPAN, "0" * 32, "zz"])
json_values = st.recursive(
    scalars | ids,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(OTLP_WORDS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_only_raises_record_error(doc: Any) -> None:
    check_extract_contract(FORMAT, doc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(OTLP_WORDS), json_values, max_size=6))
def test_arbitrary_span_fields_only_raise_record_error(fields: dict[str, Any]) -> None:
    try:
        FORMAT.extract(batch({**span(), **fields}))
    except RecordError:
        pass


# --- end to end through the ingest parse (normalize included) -------------------------------


def _parse_bytes() -> Any:
    ingest = pytest.importorskip("collectors.ingest", reason="the ingest engine is not written yet")
    if not hasattr(ingest, "parse_bytes"):
        pytest.skip("collectors.ingest.parse_bytes is not there yet")
    return ingest.parse_bytes


def test_e2e_latest_traces() -> None:
    result = _parse_bytes()("otel", LATEST.read_bytes(), "latest.jsonl")
    assert result.quarantined == [] and len(result.attempts) == 8
    first, not_found = result.attempts[0], result.attempts[5]
    assert first.attempt_id == "otel:f46a8c33d0eadee94491041519b451ed:b61606548093a020"
    assert first.logical_request_id == "f46a8c33d0eadee94491041519b451ed:b61606548093a020"
    assert first.started_at == datetime(2026, 11, 23, 5, 55, 35, 905020)  # ...335905020112 ns
    assert first.ended_at == datetime(2026, 11, 23, 5, 55, 35, 924814)
    assert first.latency_ms == pytest.approx(19.794)
    assert (first.input_tokens, first.output_tokens, first.status) == (12, 5, "success")
    assert (first.provider, first.route, first.input_includes_cached) == (
        "openai",
        "support-bot",
        True,
    )
    assert (not_found.status, not_found.error_class, not_found.http_status) == (
        "error",
        "bad_request",
        404,
    )
    assert not_found.error_type == "NotFoundError"
    embeddings_404 = result.attempts[7]
    assert (embeddings_404.error_class, embeddings_404.http_status) == ("bad_request", 404)


def test_e2e_legacy_traces_and_metrics() -> None:
    parse = _parse_bytes()
    legacy = parse("otel", LEGACY.read_bytes(), "legacy.jsonl")
    assert legacy.quarantined == [] and len(legacy.attempts) == 5
    assert legacy.attempts[2].input_tokens is None and legacy.attempts[2].output_tokens is None
    assert legacy.attempts[4].error_class == "bad_request"
    for path in METRICS:
        metrics = parse("otel", path.read_bytes(), path.name)
        assert metrics.attempts == [] and metrics.quarantined == []


def test_e2e_constructed() -> None:
    result = _parse_bytes()("otel", BUILT.read_bytes(), "constructed.jsonl")
    assert result.quarantined == [] and len(result.attempts) == 4
    by_span = {a.attempt_id.rsplit(":", 1)[1]: a for a in result.attempts}
    chat1, chat2 = by_span["53995c3f42cd8ad8"], by_span["a2fb4a1d1a96d312"]
    limited, retried = by_span["b7ad6b7169203331"], by_span["5fb397be34d26b51"]
    assert chat1.ttft_ms == 420.0 and chat1.latency_ms == 2250.0 and chat1.streamed is True
    assert str(chat1.reported_cost_usd) == "0.0123000000"
    assert (chat2.input_includes_cached, chat2.cached_input_tokens) == (False, 1000)
    assert (limited.error_class, limited.http_status) == ("rate_limit", 429)
    assert (
        limited.logical_request_id
        == retried.logical_request_id
        == "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331"
    )
    assert chat1.logical_request_id != chat2.logical_request_id  # two calls of one agent run


def test_e2e_bad_number_and_bad_line_are_quarantined() -> None:
    bad_tokens = json.dumps(batch(span(attr("gen_ai.usage.input_tokens", "abc"))))
    payload = "\n".join([bad_tokens, '{"resourceSpans": "x"}', "{not json", "[1, 2]"]).encode()
    result = _parse_bytes()("otel", payload, "bad.jsonl")
    assert result.attempts == []
    reasons = {q.source_line: q.reason for q in result.quarantined}
    assert reasons[1] == "bad_number" and reasons[2] == "bad_structure"
    assert reasons[3] != reasons[1] and 4 in reasons


def test_e2e_duplicate_span_keeps_one_id() -> None:
    payload = (json.dumps(batch(span())) + "\n") * 2
    result = _parse_bytes()("otel", payload.encode(), "dup.jsonl")
    assert {a.attempt_id for a in result.attempts} == {f"otel:{TRACE}:{SPAN}"}


def test_e2e_agent_name_and_conversation_id_are_cut_redacted_and_kept_apart() -> None:
    """normalize treats the agent name as it treats the team (trimmed, credentials masked,
    200 characters, control characters kept as data for the display to escape) and the
    conversation id as an id: a masked credential keeps a hash, so two stay two."""
    key = "sk-proj-AbCdEf0123456789AbCdEf0123456789"

    def labelled(n: int, agent: Any, conversation: Any) -> dict[str, Any]:
        labels = (attr("gen_ai.agent.name", agent), attr("gen_ai.conversation.id", conversation))
        return span(*labels, spanId=f"{n:016x}")

    doc = batch(
        labelled(1, "x" * 100_000, "c" * 100_000),
        labelled(2, "  agent\x00\x1b[31m\r\nname\u202e  ", " conv-1 "),
        labelled(3, f"Bearer {key}", f"conv {key}"),
        labelled(4, "   ", f"conv {key[:-1]}X"),
        labelled(5, "null", ""),
    )
    result = _parse_bytes()("otel", json.dumps(doc).encode(), "agents.jsonl")
    assert result.quarantined == []
    got = [(a.agent_name, a.conversation_id) for a in result.attempts]
    assert got[0] == ("x" * 200, "c" * 200)
    assert got[1] == ("agent\x00\x1b[31m\r\nname\u202e", "conv-1")
    assert got[2][0] == "[REDACTED]" and got[3][0] is None and got[4] == (None, None)
    masked = [got[2][1], got[3][1]]
    assert all(c.startswith("conv [REDACTED]#") for c in masked) and masked[0] != masked[1]
    assert key[8:24] not in json.dumps(got)


numbers = (
    st.none()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["1e308", "nan", "-inf", "abc", "", "9e15", "-0"])
)
NUMERIC_KEYS = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.usage.cost",
    "http.response.status_code",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(NUMERIC_KEYS), numbers),
    st.fixed_dictionaries({}, optional={"startTimeUnixNano": numbers, "endTimeUnixNano": numbers}),
)
def test_e2e_arbitrary_numbers_never_stop_the_run(
    values: dict[str, Any], times: dict[str, Any]
) -> None:
    attrs = [
        {"key": k, "value": {"stringValue": v} if isinstance(v, str) else {"intValue": v}}
        for k, v in values.items()
    ]
    doc = batch({**span(*attrs), **times})
    result = _parse_bytes()("otel", json.dumps(doc).encode(), "fuzz.jsonl")
    assert len(result.attempts) + len(result.quarantined) == 1
