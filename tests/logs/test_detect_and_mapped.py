from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors import logs
from collectors.errors import ConfigError, InputError
from collectors.ingest import parse_bytes
from collectors.logs.mapped import load_mapping
from tests.conftest import LOG_FIXTURES


@pytest.mark.parametrize(
    ("rel", "name"),
    [
        ("litellm/slp_router_success.json", "litellm"),
        ("litellm/slp_router_failure_retry_trace.json", "litellm"),
        ("litellm/01_spend_logs_row_gcs_pubsub.json", "litellm-spendlogs"),
        ("litellm/03_spend_logs_row_docs_partial.json", "litellm-spendlogs"),
        ("otlp_genai/openai-v2_2.1b0_legacy.traces.jsonl", "otel"),
        ("openrouter_generation/skills-openrouter_partial_429-then-200.json", "openrouter"),
        (
            "openrouter_completion_usage/skills-openrouter_gemini-2.5-flash_chat-completion.json",
            "openrouter",
        ),
    ],
)
def test_auto_detects_each_recorded_format(rel: str, name: str) -> None:
    path = LOG_FIXTURES / rel
    assert logs.detect_name(path, path.read_bytes()[:65536]) == name


def test_detects_routeledger_jsonl_and_csv() -> None:
    assert logs.detect_name(Path("a"), b'{"attempt_id": "1", "started_at": 1}\n') == "routeledger"
    assert (
        logs.detect_name(Path("a"), b"attempt_id,started_at,ended_at,model,status\n")
        == "routeledger"
    )
    assert logs.detect_name(Path("a"), b"request_id,spend,startTime\n") == "litellm-spendlogs"


def test_unknown_format_says_why() -> None:
    with pytest.raises(InputError, match="first record has keys bar, foo; pass --format"):
        logs.detect_name(Path("x.jsonl"), b'{"foo": 1, "bar": 2}\n')
    with pytest.raises(InputError, match="empty file"):
        logs.detect_name(Path("x.jsonl"), b"  \n")


def _mapping(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_mapping_keys_are_escaped_not_executed(tmp_path: Path) -> None:
    evil = "x'); DROP TABLE raw_attempts; --"
    p = _mapping(
        tmp_path,
        f'name: evil\nfields:\n  started_at: "{evil}"\n  ended_at: "{evil}"\n  served_model: {{const: "a\'b"}}\n  status: {{const: ok}}\n',
    )
    fmt = load_mapping(p)
    payload = json.dumps({evil: "2026-10-01T00:00:00Z"}).encode() + b"\n"
    result = parse_bytes(fmt, payload)
    assert len(result.attempts) == 1 and result.attempts[0].served_model == "a'b"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("fields: [1, 2]", "fields"),
        ("fields:\n  colour: x\n", "fields.colour"),
        ("fields:\n  served_model: x\n", "fields.started_at"),
        ("fields:\n  started_at: {python: os.system}\n", "fields.started_at"),
        ("!!python/object/apply:os.system ['echo pwned']", "(file)"),
        ("a: &a [*a, *a]\nb: &b [*a, *a, *a, *a, *a, *a]\n", "(file)"),  # an alias cycle
        ("name: ../../etc\nfields:\n  started_at: t\n", "name"),
        ("fields:\n  started_at: t\nunits:\n  latency_ms: fortnights\n", "units"),
    ],
)
def test_hostile_or_wrong_mappings_are_one_config_error(
    tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(ConfigError) as e:
        load_mapping(_mapping(tmp_path, text))
    assert f": {key}: " in str(e.value) and "\n" not in str(e.value)
