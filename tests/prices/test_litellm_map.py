"""LiteLLM's model_prices_and_context_window.json, spot-checked against the recorded file by hand."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from collectors.errors import TerminalSourceError
from collectors.prices import litellm_map
from tests.prices.conftest import OBSERVED, fixture_bytes, one

D = Decimal
MAP = "litellm_model_prices.json"


@pytest.fixture(scope="module")
def result():
    return litellm_map.parse_result(fixture_bytes(MAP), OBSERVED)


def test_claude_sonnet_45_with_1h_cache_and_batch(result):
    # litellm_model_prices.json "claude-sonnet-4-5" (line ~16085): input_cost_per_token 3e-06,
    # output 1.5e-05, cache_read 3e-07, cache_creation 3.75e-06, cache_creation_above_1hr 6e-06,
    # input_cost_per_token_batches 1.5e-06, output_cost_per_token_batches 7.5e-06.
    obs = one(result.observations, "claude-sonnet-4-5", provider="anthropic")
    assert (obs.input_per_mtok, obs.output_per_mtok) == (D(3), D(15))
    assert (obs.cached_input_per_mtok, obs.cache_write_5m_per_mtok) == (D("0.3"), D("3.75"))
    assert obs.cache_write_1h_per_mtok == D(6)
    assert obs.extra == {"source_model_id": "claude-sonnet-4-5", "litellm_provider": "anthropic"}
    batch = one(result.observations, "claude-sonnet-4-5", provider="anthropic", variant="batch")
    assert (batch.input_per_mtok, batch.output_per_mtok) == (D("1.5"), D("7.5"))


def test_above_200k_tier(result):
    # "gemini/gemini-2.5-pro" (line ~31729): input_cost_per_token_above_200k_tokens 2.5e-06,
    # output_cost_per_token_above_200k_tokens 1.5e-05, cache_read_..._above_200k_tokens 2.5e-07.
    tier = one(result.observations, "gemini-2.5-pro", provider="google", tier=200_000)
    assert (tier.input_per_mtok, tier.output_per_mtok) == (D("2.5"), D(15))
    assert tier.cached_input_per_mtok == D("0.25")
    base = one(result.observations, "gemini-2.5-pro", provider="google")
    assert (base.input_per_mtok, base.output_per_mtok) == (D("1.25"), D(10))
    prio = one(
        result.observations, "gemini-2.5-pro", provider="google", variant="priority", tier=200_000
    )
    assert (prio.input_per_mtok, prio.output_per_mtok) == (D("4.5"), D(27))


def test_flex_variant_and_reasoning_price(result):
    # "gpt-5": input_cost_per_token_flex 6.25e-07, output_cost_per_token_flex 5e-06
    flex = one(result.observations, "gpt-5", provider="openai", variant="flex")
    assert (flex.input_per_mtok, flex.output_per_mtok) == (D("0.625"), D(5))
    # "dashscope/qwen-plus-2025-04-28": output_cost_per_reasoning_token 4e-06
    obs = one(result.observations, "qwen-plus-2025-04-28", provider="dashscope")
    assert obs.reasoning_per_mtok == D(4) and obs.output_per_mtok == D("1.2")


def test_per_request_fee(result):
    # "perplexity/sonar-medium-online": input_cost_per_request 0.005 (USD), input tokens 0
    obs = one(result.observations, "sonar-medium-online", provider="perplexity")
    assert obs.per_request == D("0.005") and obs.input_per_mtok == 0
    assert obs.output_per_mtok == D("1.8")


def test_non_chat_modes_and_sample_spec_are_counted_not_emitted(result):
    # "text-embedding-3-small" has "mode": "embedding"
    assert not [o for o in result.observations if o.model_id == "text-embedding-3-small"]
    doc = json.loads(fixture_bytes(MAP))
    embeddings = sum(
        1 for v in doc.values() if isinstance(v, dict) and v.get("mode") == "embedding"
    )
    assert result.skipped["mode:embedding"] == embeddings > 0
    assert result.skipped["sample_spec"] == 1
    assert result.skipped["mode:image_generation"] > 0 and result.skipped["mode:rerank"] > 0
    assert not [o for o in result.observations if o.model_id == "sample_spec"]


def test_hosting_providers_keep_their_own_identity(result):
    vertex = one(result.observations, "gemini-2.5-pro", provider="vertex_ai")
    assert vertex.extra["litellm_provider"] == "vertex_ai-language-models"
    azure = one(result.observations, "gpt-4o-mini", provider="azure")
    assert azure.extra["source_model_id"] == "azure/gpt-4o-mini"


def test_unprefixed_key_wins_over_prefixed_one(result):
    # "deepseek-chat" and "deepseek/deepseek-chat" both land on deepseek/deepseek-chat
    obs = one(result.observations, "deepseek-chat", provider="deepseek")
    assert obs.extra["source_model_id"] == "deepseek-chat"
    assert result.skipped["shadowed_by_canonical_key"] > 0


def test_no_floats_anywhere(result):
    for obs in result.priced:
        for value in (obs.input_per_mtok, obs.output_per_mtok, obs.cached_input_per_mtok):
            assert value is None or type(value) is Decimal


def _one_model(**fields) -> bytes:
    return json.dumps({"acme-1": {"litellm_provider": "acme", "mode": "chat", **fields}}).encode()


def test_tier_inherits_unlisted_dimensions_from_its_variant_base():
    payload = _one_model(
        input_cost_per_token=1e-06,
        output_cost_per_token=2e-06,
        cache_read_input_token_cost=1e-07,
        input_cost_per_token_above_128k_tokens=2e-06,
    )
    tier = one(litellm_map.parse(payload, OBSERVED), "acme-1", tier=128_000)
    assert (tier.input_per_mtok, tier.output_per_mtok, tier.cached_input_per_mtok) == (
        D(2),
        D(2),
        D("0.1"),
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"acme-1": {"mode": "chat", "input_cost_per_token": NaN}}',
        '{"acme-1": {"mode": "chat", "input_cost_per_token": 1e999999}}',
    ],
)
def test_nan_and_huge_numbers_skip_the_model_with_a_note(text):
    obs = litellm_map.parse(text.encode(), OBSERVED)
    assert len(obs) == 1 and obs[0].input_per_mtok is None
    assert "unusable price" in obs[0].note


@pytest.mark.parametrize(
    "payload", [b"[]", b"{}", b'{"sample_spec": {}}', b'{"x": {"mode": "embedding"}}']
)
def test_nothing_readable_is_terminal(payload):
    with pytest.raises(TerminalSourceError, match="litellm"):
        litellm_map.parse(payload, OBSERVED)
