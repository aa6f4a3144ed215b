"""Manual overrides YAML: discounts, own prices, dates; malformed files name file, key, expectation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from collectors.errors import ConfigError
from collectors.prices import overrides
from tests.prices.conftest import OBSERVED, one

GOOD = """
discounts:
  - provider: Anthropic
    percent: 15
    valid_from: 2025-01-01
  - provider: openai
    model: gpt-4o-mini
    percent: 12.5
prices:
  - provider: selfhosted
    model: Llama-3.3-70B
    input_per_mtok: 0.10
    output_per_mtok: "0.20"
    per_request: 0.001
    valid_from: 2025-06-01T08:00:00
  - provider: anthropic
    model: claude-sonnet-4.5
    variant: batch
    input_per_mtok: 1.2
    output_per_mtok: 6
"""


def test_discounts_prices_and_dates():
    obs = overrides.parse(GOOD, OBSERVED, file="ov.yaml")
    wide = one(obs, "*", provider="anthropic")
    assert wide.discount_pct == Decimal(15) and wide.valid_from == datetime(2025, 1, 1, tzinfo=UTC)
    assert one(obs, "gpt-4o-mini", provider="openai").discount_pct == Decimal("12.5")
    own = one(obs, "llama-3.3-70b", provider="selfhosted")
    assert (own.input_per_mtok, own.output_per_mtok) == (Decimal("0.10"), Decimal("0.20"))
    assert own.per_request == Decimal("0.001")
    assert own.valid_from == datetime(2025, 6, 1, 8, tzinfo=UTC)
    # the canonical spelling of Anthropic ids applies to overrides too
    batch = one(obs, "claude-sonnet-4-5", provider="anthropic", variant="batch")
    assert batch.input_per_mtok == Decimal("1.2")
    assert {o.source for o in obs} == {"override"}


def test_missing_file_means_no_overrides(tmp_path):
    assert overrides.load(tmp_path / "absent.yaml", OBSERVED) == []
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert overrides.load(tmp_path / "empty.yaml", OBSERVED) == []


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("discounts: [{provider: x, percent: 150}]", "discounts[0].percent", "0 to 100"),
        ("discounts: [{provider: x, percent: abc}]", "discounts[0].percent", "0 to 100"),
        ("discounts: [{percent: 5}]", "discounts[0].provider", "non-empty string"),
        (
            "prices: [{provider: x, model: m, input_per_mtok: -1}]",
            "prices[0].input_per_mtok",
            "price",
        ),
        (
            "prices: [{provider: x, model: m, input_per_mtok: .nan}]",
            "prices[0].input_per_mtok",
            "price",
        ),
        ("prices: [{provider: x, model: m}]", "prices[0]", "at least one of"),
        (
            "prices: [{provider: x, model: m, input_per_mtok: 1, inptu: 2}]",
            "prices[0].inptu",
            "one of",
        ),
        (
            "prices: [{provider: x, model: m, output_per_mtok: 1, variant: turbo}]",
            "prices[0].variant",
            "one of",
        ),
        (
            "prices: [{provider: x, model: m, output_per_mtok: 1, valid_from: soon}]",
            "prices[0].valid_from",
            "date",
        ),
        ("prices: {provider: x}", "prices", "a list"),
        ("- just a list", "(document)", "a mapping"),
        ("surcharges: []", "surcharges", "top level"),
        ("prices: [{provider: x, model: m, input_per_mtok: 1}", "(document)", "valid YAML"),
        (
            "prices: [{provider: x, model: m, input_per_mtok: 1e12}]",
            "prices[0].input_per_mtok",
            "implausible",
        ),
    ],
)
def test_malformed_file_names_file_key_and_expectation(text, key, expected):
    with pytest.raises(ConfigError) as err:
        overrides.parse(text, OBSERVED, file="/home/x/prices/overrides.yaml")
    assert err.value.file == "/home/x/prices/overrides.yaml"
    assert err.value.key == key
    assert expected in str(err.value)


def test_unsafe_yaml_tags_are_refused():
    with pytest.raises(ConfigError):
        overrides.parse("prices: !!python/object/apply:os.system ['true']", OBSERVED)
