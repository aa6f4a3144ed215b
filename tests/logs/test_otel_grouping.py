"""OTel grouping (collectors/logs/otel.py) and OpenInference spans (collectors/logs/openinference.py):
which spans are attempts of which logical request, and the labels calls take from their context.

Built spans pin each rule of the module docstring; the real recordings of
``tests/fixtures/logs/otel_real`` and ``openinference_real`` pin the rules on real shapes,
including the traces cut across two lines that the SDK's default export schedule produces.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from collectors.logs.base import RecordError
from collectors.logs.otel import FORMAT, MAX_ANCESTRY
from tests.conftest import LOG_FIXTURES
from tests.logs.helpers import check_extract_contract

V2 = LOG_FIXTURES / "otel_real" / "openai-v2_2.3b0.traces.jsonl"
OI = LOG_FIXTURES / "openinference_real" / "openinference-openai_0.1.66.traces.jsonl"
TRACE = "5b8efff798038103d269b633813fc60c"
T0 = 1_748_779_200_000_000_000
MS = 1_000_000


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}  # fmt: skip
    return {"key": key, "value": {"stringValue": value}}


def sp(
    n: int,
    parent: int | None = None,
    start: int = 0,
    end: int = 10,
    attrs: dict[str, Any] | None = None,
    error: bool = False,
    kind: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    """Span number ``n`` (its id), under span ``parent``, from ``start`` to ``end`` ms."""
    span = {
        "traceId": TRACE,
        "spanId": f"{n:016x}",
        "name": f"span {n}",
        "kind": kind,
        "startTimeUnixNano": str(T0 + start * MS),
        "endTimeUnixNano": str(T0 + end * MS),
        "attributes": [attr(k, v) for k, v in (attrs or {}).items()],
        "status": {"code": 2, "message": "Error code: 500 - boom"} if error else {},
        **fields,
    }
    if parent is not None:
        span["parentSpanId"] = f"{parent:016x}"
    return span


def chat(n: int, parent: int | None = None, start: int = 0, end: int = 10, **kw: Any) -> dict[str, Any]:  # fmt: skip
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", **kw.pop("attrs", {})}
    return sp(n, parent, start, end, attrs=attrs, kind=3, **kw)


def http(n: int, parent: int, start: int, end: int, status: int | None, url: str = "http://h/v1/chat/completions") -> dict[str, Any]:  # fmt: skip
    attrs: dict[str, Any] = {"http.method": "POST", "http.url": url}
    if status is not None:
        attrs["http.status_code"] = status
    return sp(n, parent, start, end, attrs=attrs, error=status is None or status >= 400, kind=3)


def doc(*spans: dict[str, Any], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr(k, v) for k, v in (resource or {}).items()]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
            }
        ]
    }


def rows(*spans: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    return FORMAT.extract(doc(*spans, **kw))


def requests(*spans: dict[str, Any]) -> list[list[str]]:
    """Logical requests as lists of their attempts' span numbers, in attempt order."""
    out: dict[str, list[tuple[int, int]]] = {}
    for r in rows(*spans):
        out.setdefault(r["logical_request_id"], []).append(
            (int(r["attempt_index"]), int(r["attempt_key"].split(":")[1], 16))
        )
    return sorted([[str(n) for _, n in sorted(v)] for v in out.values()])


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def all_spans(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for rs in d["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]


# --- the SDK's retries: HTTP client spans beneath the call ----------------------------------


def test_http_requests_beneath_a_call_are_its_attempts() -> None:
    got = rows(
        chat(1, start=0, end=900, attrs={"gen_ai.usage.input_tokens": 12}),
        http(2, 1, 5, 20, 429),
        http(3, 1, 500, 520, 503),
        http(4, 1, 800, 890, 200),
    )
    assert [
        (r["attempt_key"][-1], r["attempt_index"], r["status"], r["http_status"]) for r in got
    ] == [  # fmt: skip
        ("2", "1", "error", "429"),
        ("3", "2", "error", "503"),
        ("1", "3", "success", None),  # the call span is the final attempt
    ]
    assert {r["logical_request_id"] for r in got} == {f"{TRACE}:{1:016x}"}
    assert [(r["input_tokens"], r["output_tokens"]) for r in got] == [("0", "0"), ("0", "0"), ("12", None)]  # fmt: skip
    assert got[0]["served_model"] == got[0]["requested_model"] == "m"
    assert got[2]["started_at"] == str(T0 + 800 * MS)  # when its own HTTP request started
    assert got[2]["ended_at"] == str(T0 + 900 * MS)


def test_one_http_request_changes_nothing() -> None:
    (row,) = rows(chat(1, start=0, end=900), http(2, 1, 5, 890, 200))
    assert (row["attempt_key"], row["started_at"]) == (f"{TRACE}:{1:016x}", str(T0))


def test_http_requests_to_another_url_are_not_tries() -> None:
    """A token fetch or a webhook made while the call ran is no retry of it."""
    got = requests(
        chat(1, start=0, end=900),
        http(2, 1, 1, 3, 200, url="https://login.example/oauth2/token"),
        http(3, 1, 5, 20, 500, url="http://h/v1/chat/completions?api-version=1"),
        http(4, 1, 800, 890, 200),
    )
    assert got == [["3", "1"]]


def test_an_http_request_without_a_response_has_unknown_usage() -> None:
    url = "http://h/v1/chat/completions"
    timeout = sp(2, 1, 5, 600, attrs={"http.method": "POST", "http.url": url, "error.type": "ReadTimeout"}, error=True, kind=3)  # fmt: skip
    first, final = rows(chat(1, start=0, end=900), timeout, http(3, 1, 800, 890, 200))
    assert (first["status"], first["http_status"], first["error_type"]) == ("error", None, "ReadTimeout")  # fmt: skip
    assert (first["input_tokens"], first["output_tokens"]) == (None, None)
    numeric = rows(chat(1, start=0, end=900), sp(2, 1, 5, 9, attrs={"http.method": "POST", "http.url": url, "http.status_code": 502, "error.type": "502"}, kind=3), http(3, 1, 800, 890, 200))  # fmt: skip
    assert (numeric[0]["error_type"], numeric[0]["http_status"]) == (None, "502")


def test_http_spans_without_a_call_yield_nothing() -> None:
    assert rows(http(2, 1, 5, 20, 429), http(3, 1, 500, 520, 200)) == []


def test_a_failed_call_without_usage_used_no_tokens_only_when_it_got_a_response() -> None:
    (response,) = rows(chat(1, error=True))  # "Error code: 500" in the status message
    assert (response["input_tokens"], response["output_tokens"], response["http_status"]) == ("0", "0", "500")  # fmt: skip
    (no_response,) = rows(chat(1, attrs={"error.type": "APIConnectionError"}))
    assert (no_response["input_tokens"], no_response["http_status"]) == (None, None)


# --- the application's retries: sibling calls -----------------------------------------------


def test_a_call_after_a_failed_sibling_is_its_retry() -> None:
    assert requests(chat(1, 9, 0, 10, error=True), chat(2, 9, 20, 30)) == [["1", "2"]]
    # a fallback to another model too; the chain goes on while calls fail
    fallback = chat(3, 9, 40, 50, attrs={"gen_ai.request.model": "other"})
    assert requests(chat(1, 9, 0, 10, error=True), chat(2, 9, 20, 30, error=True), fallback) == [["1", "2", "3"]]  # fmt: skip


def test_a_call_after_a_successful_sibling_is_a_request_of_its_own() -> None:
    assert requests(chat(1, 9, 0, 10), chat(2, 9, 20, 30), chat(3, 9, 40, 50)) == [["1"], ["2"], ["3"]]  # fmt: skip


def test_concurrent_other_kind_and_other_parent_calls_are_no_retries() -> None:
    assert requests(chat(1, 9, 0, 10, error=True), chat(2, 9, 5, 30)) == [["1"], ["2"]]
    embeddings = chat(2, 9, 20, 30, attrs={"gen_ai.operation.name": "embeddings"})
    assert requests(chat(1, 9, 0, 10, error=True), embeddings) == [["1"], ["2"]]
    assert requests(chat(1, 8, 0, 10, error=True), chat(2, 9, 20, 30)) == [["1"], ["2"]]
    no_end = chat(1, 9, 0, 10, error=True, endTimeUnixNano=None)
    assert requests(no_end, chat(2, 9, 20, 30)) == [["1"], ["2"]]


def test_two_failures_are_each_followed_once_by_the_nearest_retry() -> None:
    got = requests(
        chat(1, 9, 0, 10, error=True),
        chat(2, 9, 2, 15, error=True),
        chat(3, 9, 20, 30),
        chat(4, 9, 21, 31),
        chat(5, 9, 40, 50),
    )
    assert got == [["1", "4"], ["2", "3"], ["5"]]


def test_roots_of_one_trace_are_siblings() -> None:
    assert requests(chat(1, None, 0, 10, error=True), chat(2, None, 20, 30)) == [["1", "2"]]


def test_a_span_twice_is_one_attempt_and_no_retry_of_itself() -> None:
    failed = chat(1, 9, 0, 10, error=True)
    assert requests(failed, copy.deepcopy(failed), chat(2, 9, 20, 30)) == [["1", "2"]]


# --- context ----------------------------------------------------------------------------------


def test_labels_come_from_the_nearest_ancestor_then_the_resource() -> None:
    spans = [
        sp(1, attrs={"app.task": "outer", "team": "t-outer", "user.id": "u"}),
        sp(2, 1, attrs={"gen_ai.operation.name": "invoke_agent", "task": "inner"}),
        sp(3, 2, attrs={"gen_ai.operation.name": "execute_tool"}),
        chat(4, 3),
        chat(5, 2, 20, 30, attrs={"task": "own"}),
    ]
    got = {r["attempt_key"][-1]: r for r in rows(*spans, resource={"task": "res", "team": "res-team", "service.name": "svc"})}  # fmt: skip
    assert (got["4"]["task"], got["4"]["team"], got["4"]["user_id"], got["4"]["route"]) == ("inner", "t-outer", "u", "svc")  # fmt: skip
    assert got["5"]["task"] == "own"
    alone = rows(chat(6, 99), resource={"task": "res"})
    assert alone[0]["task"] == "res"  # the parent is not in this document


def test_an_ancestors_unusable_label_is_skipped_a_calls_own_is_bad_input() -> None:
    spans = [sp(1, attrs={"task": "ok"}), sp(2, 1, attrs={"task": ["a", "b"]}), chat(3, 2)]
    assert rows(*spans)[0]["task"] == "ok"
    with pytest.raises(RecordError) as e:
        rows(chat(3, attrs={"task": ["a"]}))
    assert e.value.reason == "bad_attribute"


def test_agent_and_conversation_come_from_the_nearest_span_that_has_them() -> None:
    """A workflow running an agent: the agent's name is the nearest; a call straight under the
    workflow takes the workflow's (its gen_ai.workflow.name, semconv 1.41 and before); every
    attempt of a request, the SDK's HTTP tries too, carries its call's labels."""
    spans = [
        sp(
            1,
            attrs={
                "gen_ai.operation.name": "invoke_workflow",
                "gen_ai.workflow.name": "support_pipeline",
                "gen_ai.conversation.id": "conv-outer",
            },
        ),
        sp(2, 1, attrs={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}),
        sp(3, 2, attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}),
        chat(4, 3),
        chat(5, 1, 20, 30),
        chat(6, 2, 40, 50, attrs={"gen_ai.conversation.id": "conv-own"}),
        chat(7, 2, 60, 70),
        http(8, 7, 60, 62, 429),
        http(9, 7, 63, 70, 200),
    ]
    got = [(r["attempt_key"][-1], r["agent_name"], r["conversation_id"]) for r in rows(*spans)]
    assert sorted(got) == [
        ("4", "planner", "conv-outer"),
        ("5", "support_pipeline", "conv-outer"),
        ("6", "planner", "conv-own"),
        ("7", "planner", "conv-outer"),
        ("8", "planner", "conv-outer"),  # the SDK's try before the call's last HTTP request
    ]
    alone = rows(chat(10, 99), resource={"gen_ai.agent.name": "res-agent", "session.id": "s"})
    assert (alone[0]["agent_name"], alone[0]["conversation_id"]) == ("res-agent", "s")


def test_an_ancestors_unusable_agent_name_is_skipped_a_calls_own_is_bad_input() -> None:
    spans = [
        sp(1, attrs={"gen_ai.agent.name": "ok", "session.id": "s-ok"}),
        sp(2, 1, attrs={"gen_ai.agent.name": ["a", "b"], "gen_ai.conversation.id": ["c"]}),
        chat(3, 2),
    ]
    assert (rows(*spans)[0]["agent_name"], rows(*spans)[0]["conversation_id"]) == ("ok", "s-ok")
    for key in ("gen_ai.agent.name", "agent.name", "gen_ai.conversation.id", "session.id"):
        with pytest.raises(RecordError) as e:
            rows(chat(3, attrs={key: ["a"]}))
        assert e.value.reason == "bad_attribute"


def test_parent_loops_and_deep_chains_end_the_walk() -> None:
    loop = [sp(1, 2, attrs={"task": "a"}), sp(2, 1), chat(3, 1)]
    assert rows(*loop)[0]["task"] == "a"
    chain = [sp(1, attrs={"task": "far"})] + [sp(n, n - 1) for n in range(2, MAX_ANCESTRY + 3)]
    deep = rows(*chain, chat(1000, MAX_ANCESTRY + 2))
    assert deep[0]["task"] is None  # further up than MAX_ANCESTRY


def test_a_call_wrapping_calls_is_context() -> None:
    """A framework's LLM span around the client library's: the inner call counts, once."""
    outer = sp(1, attrs={"openinference.span.kind": "LLM", "llm.model_name": "m", "task": "t"})
    got = rows(outer, chat(2, 1, attrs={"gen_ai.usage.input_tokens": 5}))
    assert [(r["attempt_key"][-1], r["task"], r["input_tokens"]) for r in got] == [("2", "t", "5")]


def test_a_call_with_a_bad_parent_id_is_bad_input() -> None:
    with pytest.raises(RecordError) as e:
        rows(chat(1, parentSpanId="not-hex"))
    assert e.value.reason == "bad_id"
    assert len(rows(chat(1, parentSpanId=""))) == 1  # empty: a root


@pytest.mark.parametrize("failed", [False, True])
def test_ten_thousand_siblings_stay_fast(failed: bool) -> None:
    same_time = [chat(n, 10**6, 0, 10, error=failed) for n in range(1, 10_001)]
    t = time.perf_counter()
    assert len({r["logical_request_id"] for r in rows(*same_time)}) == 10_000
    sequential = [chat(n, 10**6, 20 * n, 20 * n + 10, error=True) for n in range(1, 10_001)]
    assert len({r["logical_request_id"] for r in rows(*sequential)}) == 1
    assert time.perf_counter() - t < 20


random_span = st.fixed_dictionaries(
    {
        "n": st.integers(1, 12),
        "parent": st.none() | st.integers(1, 12),
        "start": st.integers(0, 60),
        "length": st.integers(-5, 30),
        "role": st.sampled_from(["chat", "embeddings", "http", "agent", "oi-llm", "oi-chain"]),
        "error": st.booleans(),
        "status": st.none() | st.sampled_from([200, 429, 500]),
    }
)


def _random(s: dict[str, Any]) -> dict[str, Any]:
    n, parent, start, end = s["n"], s["parent"], s["start"], s["start"] + s["length"]
    role, error = s["role"], s["error"]
    if role in ("chat", "embeddings"):
        return chat(n, parent, start, end, error=error, attrs={"gen_ai.operation.name": role})
    if role == "http":
        return http(n, parent or 1, start, end, s["status"])
    if role == "agent":
        return sp(n, parent, start, end, attrs={"gen_ai.operation.name": "invoke_agent", "task": "t"}, error=error)  # fmt: skip
    kind = "LLM" if role == "oi-llm" else "CHAIN"
    return sp(n, parent, start, end, attrs={"openinference.span.kind": kind, "llm.model_name": "m"}, error=error)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(random_span, max_size=14))
def test_any_span_tree_gives_each_call_once_in_whole_requests(spans: list[dict[str, Any]]) -> None:
    """Loops, self-parents, duplicates, overlapping and reversed times: every call span and
    every try is one attempt, keys are unique, each request counts its attempts from 1."""
    d = doc(*[_random(s) for s in spans])
    check_extract_contract(FORMAT, d)
    got = FORMAT.extract(d)
    keys = [r["attempt_key"] for r in got]
    assert len(keys) == len(set(keys))
    by_request: dict[str, list[int]] = {}
    for r in got:
        by_request.setdefault(r["logical_request_id"], []).append(int(r["attempt_index"]))
        assert r["logical_request_id"].startswith(TRACE + ":")
    for indexes in by_request.values():
        assert indexes == list(range(1, len(indexes) + 1))
    calls = {f"{TRACE}:{s['n']:016x}" for s in spans if s["role"] in ("chat", "embeddings", "oi-llm")}  # fmt: skip
    assert set(by_request) <= calls


# --- OpenInference ------------------------------------------------------------------------------


def oi(n: int, parent: int | None = None, start: int = 0, end: int = 10, **attrs: Any) -> dict[str, Any]:  # fmt: skip
    base = {"openinference.span.kind": "LLM", "llm.system": "openai",
            "llm.invocation_parameters": '{"model": "gpt-4o-mini", "stream": true}'}  # fmt: skip
    return sp(n, parent, start, end, attrs={**base, **attrs})


def test_openinference_fields() -> None:
    (row,) = rows(
        oi(
            1,
            **{
                "llm.provider": "azure",
                "llm.model_name": "gpt-4o-mini-2024-07-18",
                "llm.token_count.prompt": 100,
                "llm.token_count.completion": 20,
                "llm.token_count.prompt_details.cache_read": 64,
                "llm.token_count.completion_details.reasoning": 8,
                "llm.cost.prompt": "0.0001",
                "llm.cost.completion": "0.00002",
                "input.value": "the prompt, never read",
            },
        )
    )
    assert (row["provider"], row["requested_model"], row["served_model"], row["streamed"]) == (
        "azure", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "true",
    )  # fmt: skip
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"], row["reasoning_tokens"]) == ("100", "64", "20", "8")  # fmt: skip
    assert (row["input_includes_cached"], row["reported_cost_usd"]) == ("true", "0.00012")
    assert "the prompt" not in json.dumps(row)
    total = rows(oi(1, **{"llm.cost.total": 0.5, "llm.cost.prompt": "x"}))[0]
    assert total["reported_cost_usd"] == "0.5"
    bad = rows(oi(1, **{"llm.cost.prompt": "abc"}))[0]
    assert bad["reported_cost_usd"] == "abc"  # passed on: normalize says bad_cost


def test_openinference_request_model_name_and_bad_parameters() -> None:
    named = rows(oi(1, **{"llm.request.model_name": "asked", "llm.response.model_name": "served"}))
    assert (named[0]["requested_model"], named[0]["served_model"]) == ("asked", "served")
    for params in ("{not json", "[1]", '{"model": 7}', "x" * 70_000, '{"model": ' * 5000):
        row = rows(oi(1, **{"llm.invocation_parameters": params}))[0]
        assert row["requested_model"] is None and row["streamed"] is None


def test_openinference_kinds() -> None:
    def count(kind: str) -> int:
        return len(rows(sp(1, attrs={"openinference.span.kind": kind, "llm.model_name": "m"})))

    assert [count(k) for k in ("LLM", "EMBEDDING", "llm")] == [1, 1, 1]
    assert [count(k) for k in ("CHAIN", "AGENT", "TOOL", "RETRIEVER", "RERANKER", "GUARDRAIL")] == [0] * 6  # fmt: skip
    # an OpenInference kind decides even where GenAI attributes are present too
    assert len(rows(sp(1, attrs={"openinference.span.kind": "AGENT", "gen_ai.request.model": "m"}))) == 0  # fmt: skip


def test_openinference_labels_from_metadata_and_tags() -> None:
    spans = [
        sp(
            1,
            attrs={
                "openinference.span.kind": "AGENT",
                "metadata": '{"task": "research", "team": "r&d"}',
            },
        ),  # fmt: skip
        oi(2, 1),
        oi(3, 1, 20, 30, **{"tag.tags": ["channel:web", "task:qa"]}),
        oi(4, 1, 40, 50, **{"metadata": '{"task": ["no"]}', "app.task": "explicit"}),
    ]
    got = {r["attempt_key"][-1]: (r["task"], r["team"]) for r in rows(*spans)}
    assert got == {"2": ("research", "r&d"), "3": ("qa", "r&d"), "4": ("explicit", "r&d")}


def test_openinference_agent_name_and_session() -> None:
    """OpenInference: ``agent.name`` on the AGENT span; ``using_attributes(session_id=...)``
    copies ``session.id`` onto every span inside, so a call has its own. ``graph.node.name``
    names a node of the graph, not an agent: not read."""
    spans = [
        sp(
            1,
            attrs={
                "openinference.span.kind": "AGENT",
                "agent.name": "researcher",
                "session.id": "conv-0007",
                "graph.node.name": "research_node",
            },
        ),
        oi(2, 1, **{"session.id": "conv-0007"}),
        sp(3, 1, attrs={"openinference.span.kind": "TOOL", "session.id": "conv-0007"}),
        oi(4, 3, 20, 30, **{"session.id": "conv-0008"}),
        sp(5, attrs={"openinference.span.kind": "CHAIN", "graph.node.name": "router"}),
        oi(6, 5, 40, 50),
    ]
    got = {r["attempt_key"][-1]: (r["agent_name"], r["conversation_id"]) for r in rows(*spans)}
    assert got == {
        "2": ("researcher", "conv-0007"),
        "4": ("researcher", "conv-0008"),  # its own session id first
        "6": (None, None),
    }


def test_openinference_failure_from_the_real_recording() -> None:
    """A real failed LLM span: status 2, ``<class>: Error code: NNN - ...`` and an exception
    event whose type is read and whose message and stack trace are not."""
    failed = next(
        (d, s)
        for d in lines(OI)
        for s in all_spans(d)
        if s["name"] == "ChatCompletion" and s["status"].get("code") == 2
    )
    d, span = failed
    row = next(r for r in FORMAT.extract(d) if r["attempt_key"].endswith(span["spanId"]))
    cls, code = re.match(r"(\w+): Error code: (\d{3})", span["status"]["message"]).groups()  # type: ignore[union-attr]
    assert (row["status"], row["error_type"], row["http_status"]) == ("error", cls, code)
    assert (row["requested_model"], row["served_model"]) == ("gpt-4o-mini", "gpt-4o-mini")
    assert row["input_tokens"] == row["output_tokens"] == "0"
    assert "Traceback" not in json.dumps(row)


# --- real recordings: traces cut across lines, exactly-once ------------------------------------


def _agent_line_with_retries() -> dict[str, Any]:
    return next(
        d
        for d in lines(V2)
        if any(s["name"] == "invoke_agent researcher" for s in all_spans(d))
        and sum(s["name"] == "POST" for s in all_spans(d)) > 4
    )


def _move(d: dict[str, Any], which: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two export lines from one: the spans ``which`` picks go to the second."""
    first, second = copy.deepcopy(d), copy.deepcopy(d)
    for a, keep in ((first, False), (second, True)):
        for rs in a["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                ss["spans"] = [s for s in ss["spans"] if bool(which(s)) == keep]
    return first, second


def test_a_trace_cut_before_its_agent_span_keeps_its_requests_and_loses_the_task() -> None:
    """What the SDK's 5-second export timer does to an agent run (SOURCES.md): the calls end
    before the agent span, so they and their HTTP spans are exported first."""
    d = _agent_line_with_retries()
    whole = FORMAT.extract(d)
    assert {(r["task"], r["agent_name"]) for r in whole} == {("research", "researcher")}
    assert len({r["conversation_id"] for r in whole}) == 1
    calls_line, agent_line = _move(d, lambda s: s["name"] == "invoke_agent researcher")
    assert FORMAT.extract(agent_line) == []
    cut = FORMAT.extract(calls_line)
    strip = ("task", "agent_name", "conversation_id")
    assert [{k: v for k, v in r.items() if k not in strip} for r in cut] == [
        {k: v for k, v in r.items() if k not in strip} for r in whole
    ]
    assert {r["task"] for r in cut} == {"assistant"}  # the resource's: the parent is elsewhere
    assert {(r["agent_name"], r["conversation_id"]) for r in cut} == {(None, None)}


def test_an_openinference_trace_cut_before_its_agent_span_keeps_the_conversation() -> None:
    """OpenInference puts ``session.id`` on the LLM spans themselves: a cut loses the
    agent's name (on the AGENT span only) and keeps the conversation."""
    d = next(
        d
        for d in lines(OI)
        if any(s["name"] == "researcher" for s in all_spans(d))
        and sum(s["name"] == "ChatCompletion" for s in all_spans(d)) > 1
    )
    whole = FORMAT.extract(d)
    (conversation,) = {r["conversation_id"] for r in whole}
    assert re.fullmatch(r"conv-\d{4}", conversation)
    assert {r["agent_name"] for r in whole} == {"researcher"}
    calls_line, _ = _move(d, lambda s: s["name"] == "researcher")
    cut = FORMAT.extract(calls_line)
    assert len(cut) == len(whole)
    assert {(r["agent_name"], r["conversation_id"]) for r in cut} == {(None, conversation)}


def test_a_trace_cut_between_a_call_and_its_http_spans_loses_the_tries() -> None:
    d = _agent_line_with_retries()
    http_line, rest = _move(d, lambda s: s["name"] != "POST")
    assert FORMAT.extract(http_line) == []
    whole, cut = FORMAT.extract(d), FORMAT.extract(rest)
    n_calls = sum(s["name"].startswith("chat ") for s in all_spans(d))
    assert len(cut) == n_calls < len(whole)  # one attempt per call: the SDK's retries unseen
    assert {r["attempt_key"] for r in cut} <= {r["attempt_key"] for r in whole}
    assert {r["logical_request_id"] for r in cut} == {r["logical_request_id"] for r in whole}


def _ingest(home: Path, path: Path) -> dict[str, Any]:
    res = CliRunner().invoke(main, ["--home", str(home), "ingest", str(path), "--json"])
    assert res.exit_code in (0, 1), res.output
    return dict(json.loads(res.output))


def test_a_recording_cut_mid_line_then_grown_gives_the_clean_totals(home: Path, tmp_path: Path) -> None:  # fmt: skip
    data = V2.read_bytes()
    log = tmp_path / "traces.jsonl"
    cut = data.rindex(b"\n", 0, len(data) // 2) + 200  # inside a line
    log.write_bytes(data[:cut])
    first = _ingest(home, log)
    assert first["waiting_bytes"] > 0 and first["quarantined"] == 0
    log.write_bytes(data)
    second = _ingest(home, log)
    assert first["attempts_loaded"] + second["attempts_loaded"] == 196
    assert second["duplicates_skipped"] == 0 and second["quarantined"] == 0


def test_every_export_line_sent_twice_counts_once(home: Path, tmp_path: Path) -> None:
    """An exporter that retried a batch the receiver had already written."""
    log = tmp_path / "twice.jsonl"
    log.write_bytes(b"".join(line + b"\n" + line + b"\n" for line in V2.read_bytes().splitlines()))  # fmt: skip
    summary = _ingest(home, log)
    assert (summary["attempts_loaded"], summary["duplicates_skipped"]) == (196, 196)
    assert summary["logical_requests"] == 144


def test_a_malformed_line_costs_only_its_own_traces(home: Path, tmp_path: Path) -> None:
    raw = V2.read_bytes().splitlines()
    bad = json.loads(raw[54])
    bad["resourceSpans"][0]["scopeSpans"][0]["spans"] = "not a list"
    log = tmp_path / "bad.jsonl"
    log.write_bytes(b"\n".join([*raw[:54], json.dumps(bad).encode(), raw[55][:-40], *raw[56:]]) + b"\n")  # fmt: skip
    summary = _ingest(home, log)
    assert summary["quarantined"] == 2
    lost = len(FORMAT.extract(json.loads(raw[54]))) + len(FORMAT.extract(json.loads(raw[55])))
    assert summary["attempts_loaded"] == 196 - lost
