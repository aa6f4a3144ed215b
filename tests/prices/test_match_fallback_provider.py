"""A fallback served by another provider's model is never priced as the model that was asked for."""

from __future__ import annotations

from collectors.prices.match import Logged, Matcher


def test_requested_model_is_not_used_across_providers() -> None:
    m = Matcher([("openai", "gpt-4o"), ("meta-llama", "llama-3.3-70b")], {})
    fallback = m.resolve(Logged("meta-llama", "llama-3.3-70b-instruct-unknown", "gpt-4o", None))
    assert fallback.priced_model_id is None and fallback.match_rule == "unmatched"
    same = m.resolve(Logged("openai", "my-azure-deployment-name", "gpt-4o", None))
    assert (same.priced_provider, same.priced_model_id, same.match_rule) == (
        "openai",
        "gpt-4o",
        "requested_model",
    )
