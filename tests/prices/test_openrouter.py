"""OpenRouter /api/v1/models: both recorded formats, spot-checked against the JSON by hand."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal

import httpx
import pytest

from collectors import http
from collectors.errors import TerminalSourceError, TransientSourceError
from collectors.prices import openrouter
from collectors.prices.common import is_skip
from tests.prices.conftest import OBSERVED, fixture_bytes, one

SPARSE = "openrouter_models.json"  # 2026 format, 414 models
DENSE = "openrouter_models_2025-02-08.json"  # 2025 format, 220 models

D = Decimal


@pytest.fixture(scope="module")
def sparse():
    return openrouter.parse_result(fixture_bytes(SPARSE), OBSERVED)


@pytest.fixture(scope="module")
def dense():
    return openrouter.parse_result(fixture_bytes(DENSE), OBSERVED)


def test_every_model_of_both_recordings_is_accounted_for(sparse, dense):
    for result, name in ((sparse, SPARSE), (dense, DENSE)):
        ids = {m["id"] for m in json.loads(fixture_bytes(name))["data"]}
        seen = {o.extra["source_model_id"] for o in result.observations}
        assert seen == ids
        assert all(
            o.source == "openrouter" and o.observed_at == OBSERVED for o in result.observations
        )


def test_sparse_claude_sonnet_45_base_and_long_context_tier(sparse):
    # openrouter_models.json, "anthropic/claude-sonnet-4.5": prompt "0.000003", completion
    # "0.000015", input_cache_read "0.0000003", input_cache_write "0.00000375",
    # input_cache_write_1h "0.000006"; override min_prompt_tokens 200000: prompt "0.000006",
    # completion "0.0000225", cache read "0.0000006", write "0.0000075", write_1h "0.000012".
    base = one(sparse.observations, "claude-sonnet-4-5", provider="anthropic")
    assert (base.input_per_mtok, base.output_per_mtok) == (D("3"), D("15"))
    assert base.cached_input_per_mtok == D("0.3")
    assert (base.cache_write_5m_per_mtok, base.cache_write_1h_per_mtok) == (D("3.75"), D("6"))
    assert base.extra["source_model_id"] == "anthropic/claude-sonnet-4.5"
    assert base.extra["web_search_per_unit"] == "0.01"
    tier = one(sparse.observations, "claude-sonnet-4-5", provider="anthropic", tier=200_000)
    assert (tier.input_per_mtok, tier.output_per_mtok) == (D("6"), D("22.5"))
    assert (tier.cached_input_per_mtok, tier.cache_write_1h_per_mtok) == (D("0.6"), D("12"))


def test_batch_suffix_is_a_variant_of_the_first_party_model(sparse):
    # "anthropic/claude-sonnet-4.5:batch": prompt "0.0000015", completion "0.0000075"
    batch = one(sparse.observations, "claude-sonnet-4-5", provider="anthropic", variant="batch")
    assert (batch.input_per_mtok, batch.output_per_mtok) == (D("1.5"), D("7.5"))


def test_override_keys_missing_inherit_the_base(sparse):
    # "google/gemini-3.1-pro-preview": base internal_reasoning "0.000012" and input_cache_write
    # "0.000000375"; its 200000-token override lists neither, so both keep the base price.
    tier = one(sparse.observations, "gemini-3.1-pro-preview", provider="google", tier=200_000)
    assert (tier.input_per_mtok, tier.output_per_mtok) == (D("4"), D("18"))
    assert tier.reasoning_per_mtok == D("12")
    assert tier.cache_write_5m_per_mtok == D("0.375")


def test_time_of_day_overrides_become_windows(sparse):
    # "deepseek/deepseek-v4-pro-0813": overrides utc_start 100 -> utc_end 400 with prompt
    # "0.00000132" (peak) and 1000 -> 100 with prompt "0.00000066" (wraps past midnight).
    obs = sparse.observations
    peak = one(obs, "deepseek-v4-pro-0813", provider="deepseek", window=(time(1), time(4)))
    assert peak.input_per_mtok == D("1.32") and peak.cached_input_per_mtok == D("0.044")
    night = one(obs, "deepseek-v4-pro-0813", provider="deepseek", window=(time(10), time(1)))
    assert night.input_per_mtok == D("0.66")


def test_dense_format_gpt_4o_mini(dense):
    # openrouter_models_2025-02-08.json, "openai/gpt-4o-mini": prompt "0.00000015", completion
    # "0.0000006", image "0.007225" (USD per image), request "0" (not charged -> None).
    obs = one(dense.observations, "gpt-4o-mini", provider="openai")
    assert (obs.input_per_mtok, obs.output_per_mtok) == (D("0.15"), D("0.6"))
    assert obs.per_image == D("0.007225") and obs.per_request is None
    assert obs.cached_input_per_mtok is None  # the dense format has no cache keys


def test_dense_and_sparse_disagree_where_the_price_changed(dense, sparse):
    # "deepseek/deepseek-chat": 2025 prompt "0.00000014"; 2026 prompt "0.0000002574"
    old = one(dense.observations, "deepseek-chat", provider="deepseek")
    new = one(sparse.observations, "deepseek-chat", provider="deepseek")
    assert (old.input_per_mtok, new.input_per_mtok) == (D("0.14"), D("0.2574"))
    assert (old.output_per_mtok, new.output_per_mtok) == (D("0.28"), D("1.0287"))


def test_free_variant_is_a_real_zero_price_in_openrouter_space(dense):
    # "meta-llama/llama-3.2-3b-instruct:free": prompt "0", completion "0"
    free = one(dense.observations, "meta-llama/llama-3.2-3b-instruct:free", provider="openrouter")
    assert free.input_per_mtok == D(0) and free.output_per_mtok == D(0)
    assert not is_skip(free)


def test_dynamic_router_prices_are_skipped_with_a_note(sparse):
    # "openrouter/auto": prompt "-1", completion "-1"
    auto = one(sparse.observations, "openrouter/auto", provider="openrouter", priced=False)
    assert "dynamic" in auto.note and "-1" in auto.note
    assert auto.input_per_mtok is None and auto.output_per_mtok is None


def test_aliases_keep_their_target(sparse):
    latest = one(sparse.observations, "~anthropic/claude-sonnet-latest", provider="openrouter")
    assert latest.extra["alias_target"] == "anthropic/claude-sonnet-5"


def test_prices_are_exact_decimals(sparse):
    # "~google/gemini-flash-latest": input_cache_write "0.0000000208333333333333"
    obs = one(sparse.observations, "~google/gemini-flash-latest", provider="openrouter")
    assert obs.cache_write_5m_per_mtok == D("0.0208333333333333")
    for o in sparse.priced:
        for value in (o.input_per_mtok, o.output_per_mtok, o.cached_input_per_mtok):
            assert value is None or isinstance(value, Decimal)


def _doc(*models: dict) -> bytes:
    return json.dumps({"data": list(models)}).encode()


def test_sparse_missing_prompt_means_free_but_empty_pricing_is_skipped():
    payload = _doc(
        {"id": "acme/a", "canonical_slug": "acme/a", "pricing": {"completion": "0.000001"}},
        {"id": "acme/b", "canonical_slug": "acme/b", "pricing": {}},
    )
    obs = openrouter.parse(payload, OBSERVED)
    a = one(obs, "acme/a")
    assert a.input_per_mtok == 0 and a.output_per_mtok == 1
    assert one(obs, "acme/b", priced=False).note == "no pricing listed"


def test_dense_missing_prompt_is_skipped_not_free():
    payload = _doc(
        {
            "id": "acme/a",
            "pricing": {"prompt": "0.000001", "completion": "0", "image": "0", "request": "0"},
        },
        {"id": "acme/b", "pricing": {"completion": "0.000001", "image": "0", "request": "0"}},
    )
    obs = openrouter.parse(payload, OBSERVED)
    # every model writes image/request out (zeros included): the dense format, where a missing
    # prompt is a broken entry rather than a free one
    assert "'prompt' missing" in one(obs, "acme/b", priced=False).note


def test_unknown_override_condition_is_not_applied():
    payload = _doc(
        {
            "id": "acme/a",
            "canonical_slug": "acme/a",
            "pricing": {
                "prompt": "0.000001",
                "completion": "0.000002",
                "overrides": [{"weekday": "sat", "prompt": "0.0000001"}],
            },
        }
    )
    obs = openrouter.parse(payload, OBSERVED)
    # a tier we cannot read would misprice long prompts: the whole model is skipped, with why
    assert len(obs) == 1
    assert "unknown keys ['weekday']" in one(obs, "acme/a", priced=False).note


@pytest.mark.parametrize("payload", [b"{}", b'{"data": []}', b"[]", b'{"data": "x"}'])
def test_no_model_list_is_terminal_with_source_and_url(payload):
    with pytest.raises(TerminalSourceError) as err:
        openrouter.parse(payload, OBSERVED)
    assert str(err.value).startswith(f"openrouter ({openrouter.URL})")


def test_fetch_serves_the_recording_through_mock_transport():
    body = fixture_bytes(SPARSE)

    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == openrouter.URL
        return httpx.Response(200, content=body, headers={"ETag": 'W/"abc"'})

    with http.create_client(httpx.MockTransport(handler)) as client:
        fetched = openrouter.fetch(client)
    assert fetched.validators.etag == 'W/"abc"'
    assert len(openrouter.parse(fetched.content, OBSERVED)) > 400


def test_fetch_failure_is_transient():
    policy = http.RetryPolicy(attempts=2, sleep=lambda _: None)
    transport = httpx.MockTransport(lambda r: httpx.Response(503))
    with http.create_client(transport) as client, pytest.raises(TransientSourceError):
        openrouter.fetch(client, policy=policy)
