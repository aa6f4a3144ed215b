"""The generator's files: shaped like the recorded payloads, deterministic, priced like the catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from app.demo import build, payloads, spec, workload
from collectors import config as config_mod
from collectors.prices import catalog
from tests.conftest import LOG_FIXTURES
from tests.demo.conftest import NOW

LITELLM = LOG_FIXTURES / "litellm"


def _keys(d: dict[str, Any], *path: str) -> set[str]:
    for p in path:
        d = d[p]
    return set(d)


def _lines(folder: Path, pattern: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for f in sorted(folder.glob(pattern))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]


@pytest.fixture(scope="module")
def slp_lines(demo_home: Path) -> list[dict[str, Any]]:
    return _lines(demo_home / "logs" / "litellm", "*.jsonl")


def test_litellm_lines_have_the_recorded_shape(slp_lines: list[dict[str, Any]]) -> None:
    ok = json.loads((LITELLM / "slp_router_success.json").read_text())
    fail = json.loads((LITELLM / "slp_router_failure_retry_trace.json").read_text())[0]
    success = next(x for x in slp_lines if x["status"] == "success" and not x["cache_hit"])
    failure = next(x for x in slp_lines if x["status"] == "failure")
    for mine, recorded in ((success, ok), (failure, fail)):
        assert list(mine) == list(recorded)  # same keys, same order
        for nested in ("metadata", "hidden_params", "error_information", "status_fields"):
            assert _keys(mine, nested) == _keys(recorded, nested), nested
        assert _keys(mine, "model_map_information") == _keys(recorded, "model_map_information")
        assert isinstance(mine["startTime"], float) and isinstance(mine["endTime"], float)
    assert _keys(success, "cost_breakdown") == _keys(ok, "cost_breakdown")
    assert _keys(success, "response") == _keys(ok, "response")
    assert failure["error_information"]["error_class"] and failure["response_cost"] == 0.0
    assert failure["metadata"]["usage_object"] == {}


def test_litellm_lines_carry_what_the_collector_reads(slp_lines: list[dict[str, Any]]) -> None:
    traces: dict[str, list[dict[str, Any]]] = {}
    for x in slp_lines:
        traces.setdefault(x["trace_id"], []).append(x)
        assert (
            x["metadata"]["user_api_key_team_alias"]
            and len(x["metadata"]["user_api_key_hash"]) == 64
        )
    assert any(len(v) > 1 for v in traces.values())  # retries and fallbacks share trace_id
    tags = {t for x in slp_lines for t in x["request_tags"] if t.startswith("task:")}
    assert tags == {f"task:{t.name}" for t in spec.TASKS if t.name != "unlabeled"}
    assert any(x["request_tags"] == ["env:prod"] for x in slp_lines)  # unlabeled
    assert any(x["cache_hit"] and x["response_cost"] == 0.0 for x in slp_lines)
    cached = [
        x
        for x in slp_lines
        if x["status"] == "success"
        and not x["cache_hit"]
        and (x["response"]["usage"]["prompt_tokens_details"] or {}).get("cached_tokens")
    ]
    assert cached and all(x["response_cost"] > 0 for x in cached)
    streamed = [
        x for x in slp_lines if x["stream"] and x["status"] == "success" and not x["cache_hit"]
    ]
    assert streamed and all(x["completionStartTime"] < x["endTime"] for x in streamed)
    reasoning = [
        x for x in slp_lines if x["status"] == "success" and x["custom_llm_provider"] == "gemini"
    ]
    assert any(
        x["response"]["usage"]["completion_tokens_details"]["reasoning_tokens"] for x in reasoning
    )


def test_otlp_lines_are_export_requests_with_genai_spans(demo_home: Path) -> None:
    docs = _lines(demo_home / "logs" / "otel", "*.traces.jsonl")
    assert docs
    errors = 0
    for doc in docs:
        (rs,) = doc["resourceSpans"]
        resource = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
        assert resource["app.task"] == {"stringValue": "boilerplate"}
        (ss,) = rs["scopeSpans"]
        spans = ss["spans"]
        trace = {s["traceId"] for s in spans}
        assert len(trace) == 1 and len(spans) >= 2  # a server span and the model calls
        for s in spans[1:]:
            attrs = {a["key"]: a["value"] for a in s["attributes"]}
            assert attrs["gen_ai.provider.name"]["stringValue"] in ("acme", "openai")
            if s["status"]:
                errors += 1
                assert s["status"]["code"] == 2 and "error.type" in attrs
            else:
                assert int(attrs["gen_ai.usage.input_tokens"]["intValue"]) > 0
    assert errors > 0


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = workload.generate(tmp_path / "a", requests=400, seed=5, now=NOW)
    b = workload.generate(tmp_path / "b", requests=400, seed=5, now=NOW)
    c = workload.generate(tmp_path / "c", requests=400, seed=6, now=NOW)
    names = [Path(f).name for f in a.files]
    assert names == [Path(f).name for f in b.files]
    assert all(
        (tmp_path / "a" / Path(f).parent.name / Path(f).name).read_bytes()
        == (tmp_path / "b" / Path(f).parent.name / Path(f).name).read_bytes()
        for f in a.files
    )
    assert a.bytes != c.bytes or a.attempts != c.attempts


def test_parallel_generation_writes_the_same_files(tmp_path: Path) -> None:
    one = workload.generate(tmp_path / "one", requests=600, seed=3, now=NOW, workers=1)
    two = workload.generate(tmp_path / "two", requests=600, seed=3, now=NOW, workers=2)
    for f in one.files:
        rel = Path(f).relative_to(tmp_path / "one")
        assert (tmp_path / "two" / rel).read_bytes() == Path(f).read_bytes()
    assert (one.requests, one.attempts, one.spans) == (two.requests, two.attempts, two.spans)


def test_a_month_written_in_two_parts_is_the_month_written_at_once(tmp_path: Path) -> None:
    """The demo lives its month in two parts (before and after an approval): under one
    manifest, the parts appended are byte for byte the month written at once."""
    whole = workload.generate(tmp_path / "whole", requests=800, seed=4, now=NOW, workers=1)
    first = workload.generate(tmp_path / "parts", requests=800, seed=4, now=NOW, days=range(17))
    rest = workload.generate(
        tmp_path / "parts", requests=800, seed=4, now=NOW, days=range(17, spec.DAYS)
    )
    assert first.requests and rest.requests
    assert first.requests + rest.requests == whole.requests
    for f in whole.files:
        rel = Path(f).relative_to(tmp_path / "whole")
        assert (tmp_path / "parts" / rel).read_bytes() == Path(f).read_bytes(), rel


def test_an_experiment_in_the_manifest_gets_its_share_of_the_task(tmp_path: Path) -> None:
    """The gateway serves tasks.<name>.experiment as a weighted split: its share of the task's
    requests start down the experiment's chain, the rest down the task's chain."""
    text = spec.MANIFEST.read_text(encoding="utf-8")
    trial = "[gpt-4o, gemini-2.5-pro, claude-sonnet-4-5]"
    text = text.replace(
        "    allowed_providers: [claude-sonnet-4-5, gemini-2.5-pro, gpt-4o]\n",
        "    allowed_providers: [claude-sonnet-4-5, gemini-2.5-pro, gpt-4o]\n"
        f"    experiment: {{id: exp-test, chain: {trial}, share: 0.3, requests: 100,"
        " started: '2026-01-01'}\n",
    )
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(text, encoding="utf-8")
    assert spec.routing(manifest).experiments == {
        "architecture": (("gpt-4o", "gemini-2.5-pro", "claude-sonnet-4-5"), 0.3)
    }
    workload.generate(tmp_path / "logs", requests=6000, seed=2, now=NOW, manifest=manifest)
    firsts: dict[str, int] = {}
    seen: set[str] = set()
    for f in sorted((tmp_path / "logs" / "litellm").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            tags = rec["request_tags"]
            if "task:architecture" not in tags or rec["trace_id"] in seen:
                continue
            seen.add(rec["trace_id"])  # the first attempt of each request
            firsts[rec["model_group"]] = firsts.get(rec["model_group"], 0) + 1
    total = sum(firsts.values())
    assert total > 200
    assert 0.2 < firsts.get("gpt-4o", 0) / total < 0.4, firsts
    assert firsts.get("claude-sonnet-4-5", 0) / total > 0.55, firsts


def test_volume_follows_the_week_and_the_clock() -> None:
    w = spec.window(NOW)
    per_day = spec.split(30_000, [sum(r) for r in spec.hour_weights(w)])
    assert sum(per_day) == 30_000
    weekday = [
        n for d, n in zip(w.days, per_day, strict=True) if d.weekday() < 5 and d != NOW.date()
    ]
    weekend = [n for d, n in zip(w.days, per_day, strict=True) if d.weekday() >= 5]
    assert min(weekday) > 2.5 * max(weekend)
    assert spec.hour_weights(w)[-1][NOW.hour + 1 :] == (0.0,) * (23 - NOW.hour)  # nothing after now


def test_list_prices_agree_with_the_bundled_catalog() -> None:
    """The gateway's reported costs and the demo's price feed use these numbers; if genai-prices
    changes them, update app/demo/spec.py (or the demo shows drift it did not mean to)."""
    obs = {
        (o.provider, o.model_id): o
        for o in catalog.parse(datetime.now(UTC))
        if o.variant == "standard" and o.tier_min_prompt_tokens == 0 and o.window_start_utc is None
    }
    canonical = {"gemini": "google", "groq": "groq"}
    for m in spec.MODELS:
        provider = canonical.get(m.provider, m.provider)
        model = "mistral-large" if m.map_key == "mistral-large-latest" else m.map_key
        o = obs[(provider, model)]
        if m.name == "deepseek-chat":
            continue  # the catalog's base row is DeepSeek's off-peak price; the peak one is ours
        assert float(o.input_per_mtok) == m.prices[0], m.name
        assert float(o.output_per_mtok) == m.prices[3], m.name
        if m.prices[1]:
            assert float(o.cached_input_per_mtok) == m.prices[1], m.name


def test_manifest_matches_the_workload_and_the_interface() -> None:
    routing = spec.routing()
    assert set(routing.chains) == {t.name for t in spec.TASKS}
    text = spec.MANIFEST.read_text(encoding="utf-8")
    assert text.startswith("#")  # commented
    from ruamel.yaml import YAML

    doc = YAML(typ="safe", pure=True).load(text)
    assert {"default_budget_limit", "max_output_tokens"} <= set(doc["routing"])
    for p in doc["providers"]:
        assert {
            "name",
            "model",
            "cost_per_output_token",
            "supported_tasks",
            "latency_target_ms",
            "routing_mode",
        } <= set(p)
    for name, task in doc["tasks"].items():
        assert {
            "chain",
            "success_target",
            "latency_target_ms",
            "max_output_tokens",
            "allowed_providers",
        } <= set(task)
        assert doc["routing"]["max_output_tokens"][name] == task["max_output_tokens"]
        for p in task["chain"]:
            assert name in next(x for x in doc["providers"] if x["name"] == p)["supported_tasks"]
    assert doc["validation"]["gates"]


def test_demo_home_config_points_at_its_logs(demo: build.BuildResult, demo_home: Path) -> None:
    cfg = config_mod.load(demo_home)
    assert cfg.timezone == spec.TIMEZONE
    assert [(s.path, s.format) for s in cfg.sources] == [
        ("logs/litellm/*.jsonl", "litellm"),
        ("logs/otel/*.traces.jsonl", "otel"),
    ]
    assert all(list(demo_home.glob(s.path)) for s in cfg.sources)
    # the manifest the demo's gateway started the month with, or the version approved since
    original, now = spec.MANIFEST.read_text(), (demo_home / "manifest.yaml").read_text()
    assert (now == original) == (not demo.approval)
    if demo.approval:
        with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
            stored = con.execute(
                "SELECT stored_path FROM manifest_versions ORDER BY version"
            ).fetchall()
        assert [Path(p).read_text() for (p,) in stored] == [original, now]
    assert "manifest" in (demo_home / "routeledger.toml").read_text()
    assert len(list((demo_home / "prices" / "openrouter").glob("models-*.json"))) == spec.DAYS


def test_template_slots_are_filled_or_fixed() -> None:
    success, failure = payloads.slp_templates({"provider": '"x"'})
    assert "provider" not in success.slots and "usage" in success.slots
    assert "%%" not in json.dumps(payloads.EMPTY_ERROR)
