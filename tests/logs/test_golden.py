"""Every recorded log fixture parses to the attempts and quarantined rows in its golden file.

Goldens live in tests/golden/logs/<case>.json. After a deliberate change, regenerate with
``UPDATE_GOLDEN=1 pytest tests/logs/test_golden.py`` and read ``git diff tests/golden`` before
committing: the diff is the behaviour change.
"""

from __future__ import annotations

import dataclasses
import json
import os
from decimal import Decimal

import pytest

from collectors.ingest import parse_bytes
from collectors.logs.mapped import load_mapping
from tests.conftest import LOG_FIXTURES, TESTS

GOLDEN = TESTS / "golden" / "logs"

CASES = {
    "litellm_slp_success": ("litellm/slp_router_success.json", "litellm"),
    "litellm_slp_retry_trace": ("litellm/slp_router_failure_retry_trace.json", "litellm"),
    "litellm_slp_stream": ("litellm/02_standard_logging_payload_stream_success.json", "litellm"),
    "litellm_spendlogs_pubsub": ("litellm/01_spend_logs_row_gcs_pubsub.json", "litellm-spendlogs"),
    "litellm_spendlogs_docs_partial": (
        "litellm/03_spend_logs_row_docs_partial.json",
        "litellm-spendlogs",
    ),
    "envoy_accesslog": ("envoy_ai_gateway_accesslog/accesslog.jsonl", "mapped:envoy-ai-gateway"),
    "kong_docs_example": (
        "kong_ai_gateway_log/docs-example_llm-traffic-entry.json",
        "mapped:kong-ai-gateway",
    ),
    "kong_constructed": (
        "kong_ai_gateway_log/constructed_full_log_entries.jsonl",
        "mapped:kong-ai-gateway",
    ),
    "otel_latest": ("otlp_genai/openai-v2_2.4b0_latest-experimental.traces.jsonl", "otel"),
    "otel_legacy": ("otlp_genai/openai-v2_2.1b0_legacy.traces.jsonl", "otel"),
    "otel_metrics_only": ("otlp_genai/openai-v2_2.4b0_latest-experimental.metrics.jsonl", "otel"),
    "openrouter_cancelled_stream": (
        "openrouter_generation/trick-question-bench_deepinfra_cancelled-stream.json",
        "openrouter",
    ),
    "openrouter_429_then_200": (
        "openrouter_generation/skills-openrouter_partial_429-then-200.json",
        "openrouter",
    ),
    "openrouter_completion_usage": (
        "openrouter_completion_usage/skills-openrouter_gemini-2.5-flash_chat-completion.json",
        "openrouter",
    ),
}


def _plain(v: object) -> object:
    if isinstance(v, Decimal):
        return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()  # type: ignore[union-attr]
    return v


def render(rel: str, fmt: str) -> dict[str, object]:
    fmt_obj = load_mapping(fmt.split(":", 1)[1]) if fmt.startswith("mapped:") else fmt
    result = parse_bytes(fmt_obj, (LOG_FIXTURES / rel).read_bytes(), f"fixtures/logs/{rel}")
    return {
        "attempts": [
            {k: _plain(v) for k, v in dataclasses.asdict(a).items()} for a in result.attempts
        ],
        "quarantined": [dataclasses.asdict(q) for q in result.quarantined],
        "skipped": result.skipped,
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixture_matches_golden(case: str) -> None:
    rel, fmt = CASES[case]
    got = render(rel, fmt)
    path = GOLDEN / f"{case}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert path.exists(), f"no golden for {case}; run with UPDATE_GOLDEN=1 and review the diff"
    want = json.loads(path.read_text(encoding="utf-8"))
    assert len(got["attempts"]) == len(want["attempts"])  # type: ignore[arg-type]
    for i, (g, w) in enumerate(zip(got["attempts"], want["attempts"], strict=True)):  # type: ignore[call-overload]
        for field, value in w.items():
            assert g[field] == value, (
                f"{case} attempt {i}: {field} is {g[field]!r}, golden {value!r}"
            )
    assert got["quarantined"] == want["quarantined"]
    assert got["skipped"] == want["skipped"]


def test_goldens_pin_the_semantics_read_from_the_sources() -> None:
    """Spot checks stated from SOURCES.md and the payloads, independent of the golden files."""
    retry = render(*CASES["litellm_slp_retry_trace"])["attempts"]
    assert [a["logical_request_id"] for a in retry] == ["25adf3b6-124a-4614-8898-4b30a5fd5112"] * 2  # type: ignore[index]
    assert {a["error_class"] for a in retry} == {"rate_limit"}  # type: ignore[union-attr]
    assert {a["http_status"] for a in retry} == {429}  # type: ignore[union-attr]
    stream = render(*CASES["litellm_slp_stream"])["attempts"][0]  # type: ignore[index]
    assert stream["streamed"] is True and stream["ttft_ms"] == pytest.approx(4.583)
    assert stream["reported_cost_usd"] == "0.0002250000"
    ok = render(*CASES["litellm_slp_success"])["attempts"][0]  # type: ignore[index]
    assert ok["task"] == "summarize" and ok["base_model"] == "claude-sonnet-4-5"
    assert ok["latency_ms"] == pytest.approx(270.544, abs=0.001) and ok["ttft_ms"] is None
    envoy = render(*CASES["envoy_accesslog"])
    assert envoy["skipped"] == 1  # the MCP tools/call line is not an LLM call
    assert envoy["attempts"][0]["latency_ms"] == 1526.0  # type: ignore[index]
    kong = render(*CASES["kong_constructed"])["attempts"]
    assert kong[0]["gateway_cache_hit"] is True and kong[1]["error_class"] == "rate_limit"  # type: ignore[index]
