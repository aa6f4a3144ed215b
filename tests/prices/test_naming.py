"""Canonical identity: one normalisation shared by every source and the matcher."""

from __future__ import annotations

import pytest

from collectors.prices import naming


@pytest.mark.parametrize(
    ("openrouter_id", "expected"),
    [
        ("anthropic/claude-sonnet-4.5", ("anthropic", "claude-sonnet-4-5", "standard")),
        (
            "anthropic/claude-3.5-sonnet-20240620",
            ("anthropic", "claude-3-5-sonnet-20240620", "standard"),
        ),
        ("anthropic/claude-opus-4.8:batch", ("anthropic", "claude-opus-4-8", "batch")),
        ("openai/gpt-4.1-mini", ("openai", "gpt-4.1-mini", "standard")),
        ("google/gemini-2.5-pro", ("google", "gemini-2.5-pro", "standard")),
        ("x-ai/grok-4", ("xai", "grok-4", "standard")),
        ("deepseek/deepseek-chat", ("deepseek", "deepseek-chat", "standard")),
        (
            "meta-llama/llama-3.3-70b-instruct",
            ("openrouter", "meta-llama/llama-3.3-70b-instruct", "standard"),
        ),
        ("google/gemma-2-9b-it:free", ("openrouter", "google/gemma-2-9b-it:free", "standard")),
        (
            "~anthropic/claude-sonnet-latest",
            ("openrouter", "~anthropic/claude-sonnet-latest", "standard"),
        ),
        ("openrouter/auto", ("openrouter", "openrouter/auto", "standard")),
        ("openrouter/anthropic/claude-sonnet-4.5", ("anthropic", "claude-sonnet-4-5", "standard")),
    ],
)
def test_openrouter_ids(openrouter_id, expected):
    found = naming.from_openrouter(openrouter_id)
    assert (found.provider, found.model_id, found.variant) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Claude Sonnet 4.5", "claude-sonnet-4-5"),
        ("Claude Opus 4", "claude-opus-4"),
        ("Claude Haiku 3.5", "claude-3-5-haiku"),
        (
            "Claude Sonnet 3.7 ([deprecated](/docs/en/about-claude/model-deprecations))",
            "claude-3-7-sonnet",
        ),
        ("**Claude Opus 3**", "claude-3-opus"),
        ("GPT-4o", None),
        ("Claude 4.x models", None),
    ],
)
def test_anthropic_marketing_names(name, expected):
    assert naming.anthropic_model_id(name) == expected


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("Anthropic", "anthropic"),
        ("gemini", "google"),
        ("vertex_ai-anthropic_models", "vertex_ai"),
        ("bedrock_converse", "bedrock"),
        ("x-ai", "xai"),
        ("azure_ai", "azure_ai"),
        ("acme", "acme"),
        ("", None),
    ],
)
def test_provider_slugs(raw, slug):
    assert naming.canonical_provider(raw) == slug


def test_anthropic_dot_zero_alias_is_the_bare_model():
    assert naming.canonical_model("anthropic", "claude-sonnet-4-0") == "claude-sonnet-4"
    assert naming.canonical_model("openai", "gpt-4.1") == "gpt-4.1"


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("gpt-4o-mini-2024-07-18", ["gpt-4o-mini"]),
        ("claude-sonnet-4-5-20250929", ["claude-sonnet-4-5"]),
        ("claude-3-5-sonnet@20240620", ["claude-3-5-sonnet"]),
        (
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            ["anthropic.claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet"],
        ),
        ("gemini-1.5-pro-002", ["gemini-1.5-pro"]),
        ("gpt-4o", []),
    ],
)
def test_version_variants(logged, expected):
    assert naming.version_variants(logged) == expected


def test_prefixes_and_bedrock_native_ids():
    assert naming.split_prefix("openrouter/anthropic/claude-x") == (
        "openrouter",
        "anthropic/claude-x",
    )
    assert naming.split_prefix("bedrock/us.anthropic.claude-y") == (
        "bedrock",
        "us.anthropic.claude-y",
    )
    assert naming.split_prefix("meta-llama/llama-3") == (None, "meta-llama/llama-3")
    assert naming.bedrock_native("us.anthropic.claude-3-5-sonnet-20240620-v1:0") == (
        "anthropic",
        "claude-3-5-sonnet-20240620-v1:0",
    )
    assert naming.bedrock_native("amazon.nova-pro-v1:0") is None
