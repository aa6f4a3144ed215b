"""OpenRouter generation stats and completion bodies -> candidate rows (logs/openrouter.py).

Golden rows were read by hand from the fixtures (SOURCES.md beside each); a candidate column not
named in an expected row must be empty.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.logs.base import CANDIDATE_COLUMNS, RecordError
from collectors.logs.openrouter import FORMAT
from tests.logs.helpers import check_extract_contract

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
CANCELLED = FIX / "openrouter_generation" / "trick-question-bench_deepinfra_cancelled-stream.json"
PARTIAL = FIX / "openrouter_generation" / "skills-openrouter_partial_429-then-200.json"
COMPLETION = (
    FIX / "openrouter_completion_usage" / "skills-openrouter_gemini-2.5-flash_chat-completion.json"
)
FALLBACK = FIX / "openrouter_constructed" / "fallback_429-502-200.json"

FLAGS = {"input_includes_cached": "true", "output_includes_reasoning": "true"}


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def full(**values: str) -> dict[str, str | None]:
    """An expected candidate: the named columns, every other column empty."""
    return {c: values.get(c) for c in CANDIDATE_COLUMNS}


# --- golden -------------------------------------------------------------------------------

CANCELLED_ID = "gen-1771967973-0hZ8J5kY7qLMOKbPx0u3"
CANCELLED_ROWS = [
    full(
        attempt_key=f"{CANCELLED_ID}:0",
        logical_request_id=CANCELLED_ID,
        attempt_index="0",
        # created_at 2026-02-24T21:19:33.705Z = 1771967973.705 s (the id carries 1771967973)
        started_at="1771967973705000",
        latency_ms="2940.0",  # generation_time 2940 > the provider's latency 420
        provider="DeepInfra",
        requested_model="meta-llama/llama-4-scout-17b-16e-instruct",
        served_model="meta-llama/llama-4-scout-17b-16e-instruct",
        deployment_id="9cf05ded-eefe-41b4-8c08-0c6460feffea",
        input_tokens="64",  # native_tokens_prompt, not tokens_prompt (65)
        cached_input_tokens="0",
        output_tokens="98",  # native_tokens_completion, not tokens_completion (116)
        reasoning_tokens="0",
        status="200",  # cancelled: true, but served with 200 and billed: a success
        http_status="200",
        streamed="true",
        reported_cost_usd="3.452e-05",  # total_cost 0.00003452
        **FLAGS,
    )
]

PARTIAL_ID = "gen-1772030107-1FJRHH9DliPkfVmjcn64"
PARTIAL_ROWS = [
    full(
        attempt_key=f"{PARTIAL_ID}:0",
        logical_request_id=PARTIAL_ID,
        attempt_index="0",
        latency_ms="327.0",
        provider="Google",
        served_model="google/gemini-2.5-flash-lite",
        deployment_id="ebdbef25-737d-4ac3-9e98-fd3928724e45",
        input_tokens="0",
        output_tokens="0",
        status="429",
        http_status="429",
        reported_cost_usd="0",
        **FLAGS,
    ),
    full(
        attempt_key=f"{PARTIAL_ID}:1",
        logical_request_id=PARTIAL_ID,
        attempt_index="1",
        latency_ms="3881.0",  # generation_time 3881 > latency 1643
        provider="Google AI Studio",
        served_model="google/gemini-2.5-flash-lite",
        deployment_id="ce839073-aa24-4f29-8358-15b319bd05ec",
        status="200",
        http_status="200",
        reported_cost_usd="0.0001402",
        **FLAGS,
    ),
]  # no created_at, no model, no tokens: started_at stays empty -> missing_timestamp

COMPLETION_ID = "gen-1772036036-03sYeRNNFhHlQjQZpj70"
COMPLETION_ROWS = [
    full(
        attempt_key=COMPLETION_ID,
        logical_request_id=COMPLETION_ID,
        started_at="1772036042",  # created, epoch seconds
        ended_at="1772036042",  # no end time in the body
        provider="Google",
        served_model="google/gemini-2.5-flash",
        input_tokens="2",
        cached_input_tokens="0",
        cache_write_tokens="0",
        output_tokens="362",
        reasoning_tokens="356",  # inside the 362
        status="success",
        streamed="false",  # object: chat.completion
        reported_cost_usd="0.0009056",
        **FLAGS,
    )
]

FALLBACK_ID = "gen-1748779200-Cnstr0ctedF4llback01"
SLUG = "anthropic/claude-4.5-sonnet-20250929"
FALLBACK_COMMON = {
    "logical_request_id": FALLBACK_ID,
    "requested_model": "anthropic/claude-sonnet-4.5",
    "served_model": SLUG,
    "user_id": "u-17",
    "streamed": "false",
    **FLAGS,
}
FALLBACK_ROWS = [
    full(attempt_key=f"{FALLBACK_ID}:0", attempt_index="0", started_at="1748779200250000",
         latency_ms="327.0", provider="Anthropic", deployment_id="ep-anthropic-1",
         input_tokens="0", output_tokens="0", status="429", http_status="429",
         reported_cost_usd="0", **FALLBACK_COMMON),
    full(attempt_key=f"{FALLBACK_ID}:1", attempt_index="1", started_at="1748779200577000",  # +327
         latency_ms="1000.0", provider="Amazon Bedrock", deployment_id="ep-bedrock-1",
         input_tokens="0", output_tokens="0", status="502", http_status="502",
         reported_cost_usd="0", **FALLBACK_COMMON),
    full(attempt_key=f"{FALLBACK_ID}:2", attempt_index="2", started_at="1748779201577000",  # +1000
         latency_ms="2400.0", provider="Google", deployment_id="ep-vertex-1",
         input_tokens="1534", cached_input_tokens="1024", output_tokens="221",
         reasoning_tokens="64", status="200", http_status="200", reported_cost_usd="0.0061",
         **FALLBACK_COMMON),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CANCELLED, CANCELLED_ROWS),
        (PARTIAL, PARTIAL_ROWS),
        (COMPLETION, COMPLETION_ROWS),
        (FALLBACK, FALLBACK_ROWS),
    ],
    ids=["cancelled-stream", "partial-429-then-200", "completion-usage", "constructed-fallback"],
)
def test_golden(path: Path, expected: list[dict[str, str | None]]) -> None:
    assert FORMAT.extract(load(path)) == expected


@pytest.mark.parametrize("path", [CANCELLED, PARTIAL, FALLBACK], ids=lambda p: p.stem)
def test_bare_data_object_reads_like_the_wrapped_body(path: Path) -> None:
    doc = load(path)
    assert FORMAT.extract(doc["data"]) == FORMAT.extract(doc)


def test_prompt_and_answer_never_reach_a_candidate() -> None:
    rows = FORMAT.extract(load(COMPLETION))
    assert all("Привет" not in (v or "") for row in rows for v in row.values())


# --- mapping details ----------------------------------------------------------------------


def gen(**data: Any) -> dict[str, Any]:
    base = {"id": "gen-1-x", "created_at": "2025-06-01T12:00:00Z", "model": "openai/gpt-4o"}
    return {"data": {**base, **data}}


def test_without_provider_responses_the_generation_is_one_attempt() -> None:
    for responses in (None, []):
        doc = gen(
            provider_responses=responses,
            provider_name="OpenAI",
            latency=500,
            generation_time=900,
            total_cost=0.01,
            native_tokens_prompt=10,
        )
        (row,) = FORMAT.extract(doc)
        assert row["attempt_key"] == "gen-1-x:0" and row["attempt_index"] == "0"
        assert (row["status"], row["http_status"], row["provider"]) == ("success", None, "OpenAI")
        assert (row["latency_ms"], row["input_tokens"], row["reported_cost_usd"]) == (
            "900.0",
            "10",
            "0.01",
        )
        assert row["served_model"] == row["requested_model"] == "openai/gpt-4o"
    failed = FORMAT.extract(gen(finish_reason="error"))[0]
    assert failed["status"] == "error"


def test_created_at_forms() -> None:
    assert FORMAT.extract(gen(created_at="2024-07-15T23:33:19.433273+00:00"))[0]["started_at"] == (
        "1721086399433273"
    )
    assert FORMAT.extract(gen(created_at="2025-06-01 12:00:00"))[0]["started_at"] == (
        "1748779200000000"  # no zone: UTC
    )
    assert FORMAT.extract(gen(created_at="2025-06-01T14:00:00+02:00"))[0]["started_at"] == (
        "1748779200000000"
    )
    for unreadable in ("yesterday", "1899-01-01T00:00:00Z", 1748779200):
        rows = FORMAT.extract(gen(created_at=unreadable))
        assert rows[0]["started_at"] == str(unreadable)  # normalize: bad_timestamp


def test_unknown_duration_stops_the_clock() -> None:
    responses = [{"status": 503, "provider_name": "A"}, {"status": 200, "latency": 100}]
    first, second = FORMAT.extract(gen(provider_responses=responses))
    assert first["started_at"] == "1748779200000000" and first["latency_ms"] is None
    assert second["started_at"] is None  # cannot be placed: missing_timestamp
    bad = FORMAT.extract(
        gen(provider_responses=[{"status": 500, "latency": "slow"}, {"status": 200}])
    )
    assert bad[0]["latency_ms"] == "slow" and bad[1]["started_at"] is None


def test_null_status_is_left_for_normalize() -> None:
    (row,) = FORMAT.extract(gen(provider_responses=[{"status": None, "latency": 5}]))
    assert row["status"] is None and row["http_status"] is None  # unknown_status


def test_completion_chunk_is_streamed_and_error_finish_is_an_error() -> None:
    doc = load(COMPLETION)
    doc["object"] = "chat.completion.chunk"
    doc["choices"][0]["finish_reason"] = "error"
    (row,) = FORMAT.extract(doc)
    assert (row["streamed"], row["status"]) == ("true", "error")


# --- malformed, truncated, hostile --------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (None, "not_openrouter_generation"),
        ([load(CANCELLED)], "not_openrouter_generation"),
        ("gen-1", "not_openrouter_generation"),
        ({}, "not_openrouter_generation"),
        ({"data": []}, "not_openrouter_generation"),
        ({"data": None}, "not_openrouter_generation"),
        ({"error": {"code": 429, "message": "Rate limit exceeded"}}, "not_openrouter_generation"),
        ({"id": "x", "model": "m"}, "not_openrouter_generation"),
        ({"data": {}}, "missing_id"),
        ({"data": {"id": ""}}, "missing_id"),
        ({"data": {"id": ["gen"]}}, "missing_id"),
        ({"data": {"id": "g", "provider_responses": "429,200"}}, "bad_structure"),
        ({"data": {"id": "g", "provider_responses": [200]}}, "bad_structure"),
        ({"usage": {}, "choices": []}, "missing_id"),
        ({"id": "g", "usage": [1, 2], "object": "chat.completion"}, "bad_structure"),
        ({"id": "g", "usage": {"prompt_tokens_details": 3}, "choices": []}, "bad_structure"),
    ],
)
def test_not_a_record(doc: Any, reason: str) -> None:
    with pytest.raises(RecordError) as e:
        FORMAT.extract(doc)
    assert e.value.reason == reason


def test_truncated_and_partial_documents() -> None:
    text = CANCELLED.read_text()
    with pytest.raises(ValueError):  # the caller's JSON error: quarantined as invalid_json
        json.loads(text[: len(text) // 2])
    whole = load(CANCELLED)
    for key in list(whole["data"]):
        cut = copy.deepcopy(whole)
        del cut["data"][key]
        try:
            FORMAT.extract(cut)
        except RecordError:
            pass
    entry_keys = list(whole["data"]["provider_responses"][0])
    for key in entry_keys:
        cut = copy.deepcopy(whole)
        del cut["data"]["provider_responses"][0][key]
        assert len(FORMAT.extract(cut)) == 1


def test_wrong_types() -> None:
    row = FORMAT.extract(gen(native_tokens_prompt="abc", total_cost="free"))[0]
    assert (row["input_tokens"], row["reported_cost_usd"]) == ("abc", "free")  # normalize rejects
    for field in (
        {"model": ["x"]},
        {"native_tokens_completion": [1]},
        {"total_cost": {}},
        {"provider_responses": [{"status": 200, "provider_name": {"n": 1}}]},
        {"provider_responses": [{"status": 200, "latency": [5]}]},
    ):
        with pytest.raises(RecordError) as e:
            FORMAT.extract(gen(**field))
        assert e.value.reason == "bad_field"


def test_hostile_values() -> None:
    (row,) = FORMAT.extract(gen(model="<script>alert(1)</script>", native_tokens_prompt=10**200))
    assert row["served_model"] == "<script>alert(1)</script>"  # escaping is the display's job
    assert row["input_tokens"] == "out_of_range"
    for latency, text in [(-5, "-5"), (True, "true"), ("slow", "slow"), (2e9, "2000000000.0")]:
        (row,) = FORMAT.extract(gen(provider_responses=[{"status": 200, "latency": latency}]))
        assert row["latency_ms"] == text  # normalize: end_before_start, bad_number, absurd_latency
    for huge in (float("inf"), float("nan"), 1e308, "1e308", "-inf", 10**400):
        (row,) = FORMAT.extract(gen(provider_responses=[{"status": 200, "latency": huge}]))
        assert row["latency_ms"] == "out_of_range"  # normalize cannot add these to a time


def test_ten_thousand_provider_responses() -> None:
    responses = [{"status": 429, "latency": 1, "provider_name": "P"}] * 9_999 + [{"status": 200}]
    rows = FORMAT.extract(gen(provider_responses=responses))
    assert len(rows) == 10_000 and rows[-1]["started_at"] == str(1748779200000000 + 9_999_000)


# --- property: arbitrary JSON ---------------------------------------------------------------

WORDS = [
    "data",
    "id",
    "created_at",
    "model",
    "provider_responses",
    "status",
    "latency",
    "generation_time",
    "total_cost",
    "native_tokens_prompt",
    "provider_name",
    "model_permaslug",
    "usage",
    "choices",
    "object",
    "created",
    "prompt_tokens_details",
    "completion_tokens_details",
    "finish_reason",
    "streamed",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2025-06-01T12:00:00Z", "gen-1", "chat.completion", "error"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_only_raises_record_error(doc: Any) -> None:
    check_extract_contract(FORMAT, doc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(WORDS), json_values, max_size=8))
def test_arbitrary_generation_fields_only_raise_record_error(fields: dict[str, Any]) -> None:
    for doc in ({"data": {"id": "gen-1", **fields}}, {"id": "gen-1", "usage": {}, **fields}):
        try:
            FORMAT.extract(doc)
        except RecordError:
            pass


# --- end to end through the ingest parse (normalize included) -------------------------------


def _parse_bytes() -> Any:
    ingest = pytest.importorskip("collectors.ingest", reason="the ingest engine is not written yet")
    if not hasattr(ingest, "parse_bytes"):
        pytest.skip("collectors.ingest.parse_bytes is not there yet")
    return ingest.parse_bytes


def test_e2e_cancelled_stream() -> None:
    result = _parse_bytes()("openrouter", CANCELLED.read_bytes(), CANCELLED.name)
    assert result.quarantined == []
    (a,) = result.attempts
    assert a.attempt_id == f"openrouter:{CANCELLED_ID}:0" and a.logical_request_id == CANCELLED_ID
    assert a.started_at == datetime(2026, 2, 24, 21, 19, 33, 705000)
    assert a.ended_at == datetime(2026, 2, 24, 21, 19, 36, 645000)  # + 2940 ms
    assert (a.latency_ms, a.status, a.http_status, a.streamed) == (2940.0, "success", 200, True)
    assert (a.input_tokens, a.output_tokens, a.cached_input_tokens) == (64, 98, 0)
    assert a.reported_cost_usd == Decimal("0.00003452")
    assert (a.provider, a.deployment_id) == ("deepinfra", "9cf05ded-eefe-41b4-8c08-0c6460feffea")


def test_e2e_partial_record_is_quarantined_as_missing_timestamp() -> None:
    result = _parse_bytes()("openrouter", PARTIAL.read_bytes(), PARTIAL.name)
    assert result.attempts == []
    assert [q.reason for q in result.quarantined] == ["missing_timestamp", "missing_timestamp"]


def test_e2e_constructed_fallback() -> None:
    result = _parse_bytes()("openrouter", FALLBACK.read_bytes(), FALLBACK.name)
    assert result.quarantined == []
    first, second, last = sorted(result.attempts, key=lambda a: a.attempt_index or 0)
    assert {a.logical_request_id for a in result.attempts} == {FALLBACK_ID}
    assert (first.started_at, first.ended_at) == (
        datetime(2025, 6, 1, 12, 0, 0, 250000),
        datetime(2025, 6, 1, 12, 0, 0, 577000),
    )
    assert (second.started_at, second.ended_at) == (
        datetime(2025, 6, 1, 12, 0, 0, 577000),
        datetime(2025, 6, 1, 12, 0, 1, 577000),
    )
    assert (last.started_at, last.ended_at) == (
        datetime(2025, 6, 1, 12, 0, 1, 577000),
        datetime(2025, 6, 1, 12, 0, 3, 977000),
    )
    assert (first.error_class, second.error_class, last.status) == (
        "rate_limit",
        "server_error",
        "success",
    )
    assert [a.reported_cost_usd for a in (first, second, last)] == [0, 0, Decimal("0.0061")]
    assert (first.input_tokens, last.input_tokens, last.cached_input_tokens) == (0, 1534, 1024)


def test_e2e_completion_body() -> None:
    result = _parse_bytes()("openrouter", COMPLETION.read_bytes(), COMPLETION.name)
    assert result.quarantined == []
    (a,) = result.attempts
    assert a.started_at == a.ended_at == datetime(2026, 2, 25, 16, 14, 2)
    assert a.latency_ms == 0.0  # the body has no end time: latency unknown, stored as 0
    assert (a.input_tokens, a.output_tokens, a.reasoning_tokens) == (2, 362, 356)
    assert a.output_includes_reasoning is True and a.reported_cost_usd == Decimal("0.0009056")


def test_e2e_bad_values_are_quarantined_with_their_reason() -> None:
    parse = _parse_bytes()
    cases = {
        "bad_timestamp": gen(created_at="yesterday"),
        "unknown_status": gen(provider_responses=[{"status": None, "latency": 5}]),
        "bad_number": gen(native_tokens_prompt="abc", latency=100),
        "absurd_latency": gen(provider_responses=[{"status": 200, "latency": 2e9}]),
        "end_before_start": gen(provider_responses=[{"status": 200, "latency": -5}]),
        "bad_structure": {"data": {"id": "g", "provider_responses": "x"}},
        "not_openrouter_generation": {"error": {"code": 401}},
    }
    for reason, doc in cases.items():
        result = parse("openrouter", json.dumps(doc).encode(), "case.json")
        assert result.attempts == [], reason
        assert [q.reason for q in result.quarantined] == [reason]
    for huge in ("1e308", "nan", "-inf", 1e16):  # must not stop the run
        doc = gen(provider_responses=[{"status": 200, "latency": huge}])
        result = parse("openrouter", json.dumps(doc).encode(), "huge.json")
        reasons = [q.reason for q in result.quarantined]  # no usable end: quarantined, run goes on
        assert reasons in (["missing_timestamp"], ["bad_number"], ["absurd_latency"]), (
            huge,
            reasons,
        )


numbers = (
    st.none()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["1e308", "nan", "-inf", "abc", "", "2025-06-01T12:00:00Z", "9e15", "-0"])
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "created_at": numbers,
            "latency": numbers,
            "generation_time": numbers,
            "native_tokens_prompt": numbers,
            "total_cost": numbers,
            "model": numbers,
        },
    ),
    st.lists(st.fixed_dictionaries({"status": numbers, "latency": numbers}), max_size=3),
)
def test_e2e_arbitrary_numbers_never_stop_the_run(
    data: dict[str, Any], responses: list[Any]
) -> None:
    doc = {"data": {"id": "gen-1", **data, "provider_responses": responses}}
    result = _parse_bytes()("openrouter", json.dumps(doc).encode(), "fuzz.json")
    assert len(result.attempts) + len(result.quarantined) == max(len(responses), 1)
