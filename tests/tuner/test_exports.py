"""Each export checked against its format: LiteLLM proxy config.yaml, a Portkey config, OpenRouter
request preferences. The JSON shapes below are written from the gateways' documentation
(docs.litellm.ai proxy/configs and reliability; portkey.ai docs product/ai-gateway: configs,
fallbacks, conditional-routing, request-timeouts; openrouter.ai docs guides/routing: model
fallbacks and provider routing), limited to the keys the exports use."""

from __future__ import annotations

import json

import jsonschema
import pytest
from ruamel.yaml import YAML

from app.tuner import exports
from app.tuner import manifest as m
from tests.tuner.logs import MANIFEST

PORTKEY_TARGET = {
    "type": "object",
    "required": ["provider", "override_params"],
    "additionalProperties": False,
    "properties": {
        "provider": {"type": "string", "pattern": "^@"},
        "override_params": {
            "type": "object", "required": ["model"],
            "properties": {"model": {"type": "string"}, "max_tokens": {"type": "integer"}},
        },
        "request_timeout": {"type": "integer", "minimum": 1},
    },
}  # fmt: skip
PORTKEY_FALLBACK = {
    "type": "object",
    "required": ["strategy", "targets"],
    "properties": {
        "name": {"type": "string"},
        "strategy": {"type": "object", "required": ["mode"],
                     "properties": {"mode": {"const": "fallback"}}},
        "targets": {"type": "array", "minItems": 1, "items": PORTKEY_TARGET},
    },
}  # fmt: skip
PORTKEY_CONFIG = {
    "type": "object",
    "required": ["strategy", "targets"],
    "properties": {
        "strategy": {
            "type": "object", "required": ["mode", "conditions", "default"],
            "properties": {
                "mode": {"const": "conditional"},
                "conditions": {"type": "array", "items": {
                    "type": "object", "required": ["query", "then"],
                    "properties": {"query": {"type": "object"}, "then": {"type": "string"}}}},
                "default": {"type": "string"},
            },
        },
        "targets": {"type": "array", "items": {**PORTKEY_FALLBACK, "required": ["name", "strategy", "targets"]}},
    },
}  # fmt: skip
OPENROUTER_PREFS = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["models", "provider"],
        "additionalProperties": False,
        "properties": {
            "models": {"type": "array", "minItems": 1, "maxItems": 3,
                       "items": {"type": "string", "pattern": "^[a-z0-9-]+/[^/]+$"}},
            "provider": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "order": {"type": "array", "items": {"type": "string"}},
                    "only": {"type": "array", "items": {"type": "string"}},
                    "allow_fallbacks": {"type": "boolean"},
                    "data_collection": {"enum": ["allow", "deny"]},
                },
            },
            "max_tokens": {"type": "integer"},
        },
    },
}  # fmt: skip

BASE = """\
# our proxy
model_list:
  - model_name: embeddings          # not routed by RouteLedger
    litellm_params:
      model: openai/text-embedding-3-small
  - model_name: legacy
    litellm_params:
      model: anthropic/strong-large
      api_key: os.environ/ANTHROPIC_KEY_EU   # the EU account
      api_base: https://eu.example.com
litellm_settings:
  drop_params: true
router_settings:
  routing_strategy: simple-shuffle
  fallbacks: [{"embeddings": ["legacy"]}]
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


@pytest.fixture
def man() -> m.Manifest:
    return m.loads(MANIFEST)


def _yaml(text: str) -> dict:
    return YAML(typ="safe").load(text)


def test_litellm_config_has_ordered_deployments_fallbacks_and_timeouts(man: m.Manifest) -> None:
    cfg = _yaml(exports.litellm(man))
    groups: dict[str, list[dict]] = {}
    for d in cfg["model_list"]:
        assert set(d) == {"model_name", "litellm_params"}
        assert isinstance(d["litellm_params"]["model"], str)
        groups.setdefault(d["model_name"], []).append(d["litellm_params"])
    extract = groups["extract"]
    assert [(p["model"], p["order"]) for p in extract] == [
        ("openai/model-a", 1), ("google/model-b", 2), ("anthropic/model-c", 3)]  # fmt: skip
    assert all(p["timeout"] == 30 and p["max_tokens"] == 512 for p in extract)
    fallbacks = cfg["router_settings"]["fallbacks"]
    assert {"extract": ["model-b", "model-c"]} in fallbacks
    assert {"chat": ["fast-model"]} in fallbacks
    for fb in fallbacks:  # every fallback names a model group that exists
        for src, dests in fb.items():
            assert src in groups and all(d in groups for d in dests)
    assert cfg["router_settings"]["timeout"] == 30
    assert not any(d["model_name"] == "summarize" and d["litellm_params"]["order"] > 1
                   for d in cfg["model_list"])  # a one-model chain: one deployment  # fmt: skip


def test_litellm_keeps_everything_else_in_an_existing_config(man: m.Manifest) -> None:
    text = exports.litellm(man, BASE)
    assert text.startswith("# our proxy\n")
    assert "# not routed by RouteLedger" in text and "# the EU account" in text
    cfg = _yaml(text)
    assert cfg["litellm_settings"] == {"drop_params": True}
    assert cfg["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}
    assert cfg["router_settings"]["routing_strategy"] == "simple-shuffle"
    assert {"embeddings": ["legacy"]} in cfg["router_settings"]["fallbacks"]
    names = [d["model_name"] for d in cfg["model_list"]]
    assert names[:2] == ["embeddings", "legacy"]
    # the credentials of an existing deployment of the same model carry over
    legal = next(d["litellm_params"] for d in cfg["model_list"] if d["model_name"] == "legal")
    assert legal["api_key"] == "os.environ/ANTHROPIC_KEY_EU"
    assert legal["api_base"] == "https://eu.example.com"
    # exporting onto its own output changes nothing
    assert exports.litellm(man, text) == text


def test_portkey_config_is_a_fallback_per_task_routed_on_the_task(man: m.Manifest) -> None:
    cfg = json.loads(exports.export(man, "portkey"))
    jsonschema.validate(cfg, PORTKEY_CONFIG)
    names = [t["name"] for t in cfg["targets"]]
    assert names == list(man.tasks)
    assert {c["then"] for c in cfg["strategy"]["conditions"]} == set(names)
    assert cfg["strategy"]["default"] in names
    assert {"query": {"metadata.task": {"$eq": "chat"}}, "then": "chat"} in cfg["strategy"][
        "conditions"
    ]
    extract = exports.portkey_task(man, "extract")
    jsonschema.validate(extract, PORTKEY_FALLBACK)
    assert extract["strategy"] == {"mode": "fallback"}
    assert [(t["provider"], t["override_params"]["model"]) for t in extract["targets"]] == [
        ("@openai", "model-a"), ("@google", "model-b"), ("@anthropic", "model-c")]  # fmt: skip
    assert all(t["request_timeout"] == 30_000 for t in extract["targets"])


def test_openrouter_preferences_per_task(man: m.Manifest) -> None:
    prefs = json.loads(exports.export(man, "openrouter"))
    jsonschema.validate(prefs, OPENROUTER_PREFS)
    assert prefs["extract"]["models"] == ["openai/model-a", "google/model-b", "anthropic/model-c"]
    assert prefs["extract"]["provider"] == {"order": ["openai", "google-ai-studio", "anthropic"],
                                            "allow_fallbacks": True}  # fmt: skip
    legal = prefs["legal"]["provider"]
    assert legal["only"] == ["anthropic", "mistral"] and legal["allow_fallbacks"] is False
    assert legal["data_collection"] == "deny"
    assert prefs["chat"]["max_tokens"] == 512


def test_native_export_is_the_manifest_itself(man: m.Manifest) -> None:
    assert exports.export(man, "native") == MANIFEST
    with pytest.raises(ValueError):
        exports.export(man, "envoy")


# An experiment under way (docs/tuner.md, "Exploration plans"): Portkey's loadbalance strategy
# over weighted targets, each the fallback strategy of one chain.
PORTKEY_LOADBALANCE = {
    "type": "object",
    "required": ["strategy", "targets"],
    "properties": {
        "name": {"type": "string"},
        "strategy": {"type": "object", "required": ["mode"],
                     "properties": {"mode": {"const": "loadbalance"}}},
        "targets": {"type": "array", "minItems": 2, "items": {
            **PORTKEY_FALLBACK,
            "required": ["weight", "strategy", "targets"],
            "properties": {**PORTKEY_FALLBACK["properties"],
                           "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}},
        }},
    },
}  # fmt: skip


def test_an_experiment_exports_as_weighted_splits_that_keep_each_format(man: m.Manifest) -> None:
    exp = m.Experiment("exp-0123456789", ("model-b", "model-c"), 0.2, 300, "2026-11-01")
    man = m.loads(m.render(man, m.Changes(experiments={"extract": exp})))
    cfg = json.loads(exports.export(man, "portkey"))
    extract = next(t for t in cfg["targets"] if t["name"] == "extract")
    jsonschema.validate(extract, PORTKEY_LOADBALANCE)
    assert sum(t["weight"] for t in extract["targets"]) == pytest.approx(1.0)
    others = [t for t in cfg["targets"] if t["name"] != "extract"]
    for t in others:
        jsonschema.validate(t, PORTKEY_FALLBACK)  # the other tasks as they were
    lite = YAML(typ="safe").load(exports.export(man, "litellm"))
    group = [d["litellm_params"] for d in lite["model_list"] if d["model_name"] == "extract"]
    firsts = [p for p in group if p["order"] == 1]
    assert sorted(p["weight"] for p in firsts) == [pytest.approx(0.2), pytest.approx(0.8)]
    assert all("weight" not in p for p in group if p["order"] > 1)
    # OpenRouter has no weighted split: the task's chain, unchanged
    prefs = json.loads(exports.export(man, "openrouter"))
    jsonschema.validate(prefs, OPENROUTER_PREFS)
    assert prefs["extract"]["models"] == ["openai/model-a", "google/model-b", "anthropic/model-c"]
