"""Logged model names -> priced canonical models: each rule, and every model of the real logs."""

from __future__ import annotations

import pytest

from collectors import config as config_mod
from collectors.pipeline import ingest
from collectors.prices import api
from collectors.prices.match import Logged, Matcher
from collectors.prices.refresh import refresh
from collectors.warehouse import Warehouse
from tests.conftest import LOG_FIXTURES
from tests.prices.conftest import FIXTURES, PAGES

PRICED = {
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("azure", "gpt-4o"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-3-5-sonnet"),
    ("bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("openrouter", "meta-llama/llama-3.3-70b-instruct"),
    ("google", "gemini-1.5-pro"),
    ("deepseek", "deepseek-chat"),
    ("mistral", "acme-tuned-7b"),
}


@pytest.mark.parametrize(
    ("logged", "expected", "rule"),
    [
        (Logged("openai", "gpt-4o-mini"), ("openai", "gpt-4o-mini"), "exact"),
        (Logged("Azure", "gpt-4o"), ("azure", "gpt-4o"), "exact"),
        (Logged("openai", "openai/gpt-4o-mini"), ("openai", "gpt-4o-mini"), "prefix"),
        (
            Logged("openrouter", "openrouter/anthropic/claude-sonnet-4.5"),
            ("anthropic", "claude-sonnet-4-5"),
            "prefix",
        ),
        (
            Logged(None, "meta-llama/llama-3.3-70b-instruct"),
            ("openrouter", "meta-llama/llama-3.3-70b-instruct"),
            "openrouter_id",
        ),
        (
            Logged("bedrock", "bedrock/anthropic.claude-3-haiku-20240307-v1:0"),
            ("bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
            "prefix",
        ),
        (Logged("openai", "gpt-4o-mini-2024-07-18"), ("openai", "gpt-4o-mini"), "version_suffix"),
        (
            Logged("anthropic", "claude-sonnet-4-5-20250929"),
            ("anthropic", "claude-sonnet-4-5"),
            "version_suffix",
        ),
        (
            Logged("vertex_ai", "gemini-1.5-pro-002"),
            ("google", "gemini-1.5-pro"),
            "catalog_matcher",
        ),
        (Logged("azure", "my-deployment", None, "azure/gpt-4o"), ("azure", "gpt-4o"), "base_model"),
        (Logged(None, "deepseek-chat"), ("deepseek", "deepseek-chat"), "model_only"),
        (Logged("acme-gateway", "gpt-4o"), ("openai", "gpt-4o"), "catalog_matcher"),
        (Logged("acme-gateway", "acme-tuned-7b"), ("mistral", "acme-tuned-7b"), "model_only"),
        (
            Logged("bedrock", "us.anthropic.claude-3-5-sonnet-20240620-v1:0"),
            ("anthropic", "claude-3-5-sonnet"),
            "provider_model",
        ),
        (Logged("openai", "chat-default", "gpt-4o"), ("openai", "gpt-4o"), "requested_model"),
        (
            Logged("openai", "team-llm"),
            ("openrouter", "meta-llama/llama-3.3-70b-instruct"),
            "alias",
        ),
    ],
)
def test_rules(logged, expected, rule):
    matcher = Matcher(PRICED, {"Team-LLM": "openrouter/meta-llama/llama-3.3-70b-instruct"})
    found = matcher.resolve(logged)
    assert (found.priced_provider, found.priced_model_id, found.match_rule) == (*expected, rule)
    assert found.reason


def test_unmatched_says_why():
    found = Matcher(PRICED, {}).resolve(Logged("openai", "gpt-9-ultra"))
    assert found.priced_model_id is None and found.match_rule == "unmatched"
    assert "'gpt-9-ultra'" in found.reason and "prices.aliases" in found.reason


def test_alias_to_an_unpriced_model_is_not_second_guessed():
    found = Matcher(PRICED, {"gpt-4o-mini": "openai/gpt-5-nano"}).resolve(
        Logged("openai", "gpt-4o-mini")
    )
    assert found.priced_model_id is None and "gpt-5-nano" in found.reason


def test_ambiguous_bare_name_is_not_guessed():
    priced = {("together_ai", "llama-x"), ("fireworks_ai", "llama-x")}
    assert Matcher(priced, {}).resolve(Logged(None, "llama-x")).priced_model_id is None


# --- every model of the real log fixtures -------------------------------------------------


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    home = tmp_path_factory.mktemp("matchhome")
    cfg = config_mod.load(home)
    refresh(
        cfg,
        ["catalog"],
        {
            "openrouter": FIXTURES / "openrouter_models.json",
            "litellm": FIXTURES / "litellm_model_prices.json",
            "openai": PAGES / "openai_docs_pricing_2026-08.md",
            "anthropic": PAGES / "anthropic_docs_pricing_2025-11-25.md",
            "deepseek": PAGES / "deepseek_pricing_2026-09.html",
        },
    )
    ingest(cfg, [str(LOG_FIXTURES)])
    result = api.unmatched(cfg)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        matches = con.execute(
            "SELECT provider, logged_model, requested_model, base_model, priced_provider, "
            "priced_model_id, match_rule, reason FROM model_matches"
        ).fetchall()
        attempts = con.execute(
            "SELECT provider, served_model, requested_model, base_model, count(*) "
            "FROM raw_attempts GROUP BY ALL"
        ).fetchall()
        priced = set(
            con.execute("SELECT DISTINCT provider, model_id FROM price_versions").fetchall()
        )
    return result, matches, attempts, priced


def test_every_logged_model_is_priced_or_listed_with_a_reason(logged):
    result, matches, attempts, priced = logged
    assert attempts, "the log fixtures produced no attempts"
    by_key = {m[:4]: m for m in matches}
    assert set(by_key) == {a[:4] for a in attempts}
    listed = {
        (u["provider"], u["model"], u["requested_model"], u["base_model"]): u
        for u in result["unmatched"]
    }
    for key, m in by_key.items():
        if m[5] is None:
            assert m[6] == "unmatched" and m[7]
            count = next(a[4] for a in attempts if a[:4] == key)
            assert listed[key]["attempts"] == count and listed[key]["reason"] == m[7]
        else:
            assert (m[4], m[5]) in priced and m[6] != "unmatched"
    assert result["models_unmatched"] == len(listed)


@pytest.mark.parametrize(
    ("provider", "served", "expected"),
    [
        ("openai", "gpt-4o-mini-2024-07-18", ("openai", "gpt-4o-mini-2024-07-18")),
        ("anthropic", "anthropic/claude-sonnet-4-5", ("anthropic", "claude-sonnet-4-5")),
        ("google", "google/gemini-2.5-flash", ("google", "gemini-2.5-flash")),
        ("openai", "this-model-does-not-exist", (None, None)),
    ],
)
def test_known_log_models(logged, provider, served, expected):
    _, matches, _, _ = logged
    found = {(m[4], m[5]) for m in matches if m[0] == provider and m[1] == served}
    assert found == {expected}
