"""The bundled offline catalog (genai-prices snapshot): observations and the matcher."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from collectors.prices import catalog
from tests.prices.conftest import OBSERVED, one

D = Decimal


@pytest.fixture(scope="module")
def obs():
    return catalog.parse(OBSERVED)


def test_common_models_are_priced_offline(obs):
    # genai_prices/data.py, anthropic "claude-sonnet-4-5": input 3, output 15, cache read 0.3,
    # cache write 3.75, 1h write 6; TieredPrices start=200000: 6 / 22.5
    sonnet = one(obs, "claude-sonnet-4-5", provider="anthropic")
    assert (sonnet.input_per_mtok, sonnet.output_per_mtok) == (D(3), D(15))
    assert (sonnet.cache_write_5m_per_mtok, sonnet.cache_write_1h_per_mtok) == (D("3.75"), D(6))
    assert sonnet.source == "catalog" and sonnet.extra["catalog"].startswith("genai-prices ")
    tier = one(obs, "claude-sonnet-4-5", provider="anthropic", tier=200_000)
    assert (tier.input_per_mtok, tier.output_per_mtok) == (D(6), D("22.5"))
    mini = one(obs, "gpt-4o-mini", provider="openai")
    assert (mini.input_per_mtok, mini.output_per_mtok) == (D("0.15"), D("0.6"))


def test_dated_and_time_of_day_prices(obs):
    # deepseek "deepseek-v4-pro": StartDateConstraint 2026-08-17 -> input 0.66;
    # TimeOfDateConstraint 01:00-04:00 UTC -> input 1.32
    dated = [
        o
        for o in obs
        if o.model_id == "deepseek-v4-pro" and o.provider == "deepseek" and o.valid_from
    ]
    assert [(o.valid_from, o.input_per_mtok) for o in dated] == [
        (datetime(2026, 8, 17, tzinfo=UTC), D("0.66"))
    ]
    peak = one(obs, "deepseek-v4-pro", provider="deepseek", window=(time(1), time(4)))
    assert peak.input_per_mtok == D("1.32")


def test_openrouter_copies_never_mix_with_first_party_entries(obs):
    sonnet = [o for o in obs if o.provider == "anthropic" and o.model_id == "claude-sonnet-4-5"]
    assert {o.extra["source_model_id"] for o in sonnet} == {"anthropic/claude-sonnet-4-5"}


@pytest.mark.parametrize(
    ("logged", "provider", "expected"),
    [
        ("claude-sonnet-4-5-20250929", None, ("anthropic", "claude-sonnet-4-5")),
        ("gpt-4o-mini-2024-07-18", None, ("openai", "gpt-4o-mini")),
        ("anthropic/claude-sonnet-4.5", "openrouter", ("anthropic", "claude-sonnet-4-5")),
        ("claude-opus-4-20250514", None, ("anthropic", "claude-opus-4")),
        ("gpt-4o", "azure", ("openai", "gpt-4o")),  # azure falls back to openai's list
    ],
)
def test_matcher_lands_in_the_observation_id_space(obs, logged, provider, expected):
    found = catalog.match(logged, provider)
    assert found is not None and (found.provider, found.model_id) == expected
    assert any((o.provider, o.model_id) == expected for o in obs)


def test_matcher_returns_none_for_unknown_names():
    assert catalog.match("my-private-llm-7b") is None
