"""Anthropic docs pricing page (Markdown), spot-checked against the two recordings by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collectors.errors import TerminalSourceError
from collectors.prices.common import identity, prices_of
from collectors.prices.pages import anthropic
from tests.prices.conftest import OBSERVED, PAGES, one

D = Decimal
OLD = (PAGES / "anthropic_docs_pricing_2025-11-22.md").read_text(encoding="utf-8")
NEW = (PAGES / "anthropic_docs_pricing_2025-11-25.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def old():
    return anthropic.parse(OLD, OBSERVED)


@pytest.fixture(scope="module")
def new():
    return anthropic.parse(NEW, OBSERVED)


def test_claude_sonnet_45_list_prices(old):
    # "## Model pricing": | Claude Sonnet 4.5 | $3 / MTok | $3.75 / MTok | $6 / MTok | $0.30 / MTok | $15 / MTok |
    obs = one(old, "claude-sonnet-4-5", provider="anthropic")
    assert obs.input_per_mtok == D(3) and obs.output_per_mtok == D(15)
    assert obs.cache_write_5m_per_mtok == D("3.75") and obs.cache_write_1h_per_mtok == D(6)
    assert obs.cached_input_per_mtok == D("0.30")
    assert obs.extra["source_model_id"] == "Claude Sonnet 4.5"


def test_batch_table_is_the_batch_variant(old):
    # "### Batch processing": | Claude Haiku 3 | $0.125 / MTok | $0.625 / MTok |
    batch = one(old, "claude-3-haiku", variant="batch")
    assert (batch.input_per_mtok, batch.output_per_mtok) == (D("0.125"), D("0.625"))


def test_long_context_tier_for_the_models_named_before_the_table(old):
    # "When using Claude Sonnet 4 or Sonnet 4.5 ... > 200K input tokens": Input: $6, Output: $22.50
    for model in ("claude-sonnet-4", "claude-sonnet-4-5"):
        tier = one(old, model, tier=200_000)
        assert (tier.input_per_mtok, tier.output_per_mtok) == (D(6), D("22.50"))
        # 1.25x / 2x / 0.1x "the base input tokens price" (the page's stated multipliers)
        assert tier.cache_write_5m_per_mtok == D("7.5") and tier.cache_write_1h_per_mtok == D(12)
        assert tier.cached_input_per_mtok == D("0.6")
    assert not [o for o in old if o.model_id == "claude-opus-4-1" and o.tier_min_prompt_tokens]


def test_marketing_names_become_api_ids_and_deprecated_links_are_dropped(old):
    ids = {o.model_id for o in old}
    # "Claude Sonnet 3.7 ([deprecated](/docs/...))", "Claude Haiku 3.5", "Claude Opus 4.1"
    assert {"claude-3-7-sonnet", "claude-3-5-haiku", "claude-opus-4-1", "claude-haiku-4-5"} <= ids
    assert all(o.model_id.startswith("claude-") and " " not in o.model_id for o in old)


def test_two_captures_one_new_model_and_no_changed_price(old, new):
    before = {identity(o): prices_of(o) for o in old}
    after = {identity(o): prices_of(o) for o in new}
    added = {key[1] for key in after.keys() - before.keys()}
    assert added == {"claude-opus-4-5"}
    assert not before.keys() - after.keys()
    assert [k for k in before if before[k] != after[k]] == []
    # | Claude Opus 4.5 | $5 / MTok | $6.25 / MTok | $10 / MTok | $0.50 / MTok | $25 / MTok |
    opus = one(new, "claude-opus-4-5")
    assert (opus.input_per_mtok, opus.output_per_mtok) == (D(5), D(25))
    assert one(new, "claude-opus-4-5", variant="batch").output_per_mtok == D("12.50")


def test_moved_section_renamed_heading_and_added_row_still_parse(old):
    start, end = OLD.index("## Model pricing"), OLD.index("## Third-party platform pricing")
    section = OLD[start:end].replace("## Model pricing", "## Prices per model")
    section = section.replace(
        "| Claude Haiku 3    |",
        "| Claude Haiku 5 ([new](/docs/x))  | $2 / MTok | $2.50 / MTok | $4 / MTok | $0.20 / MTok | $10 / MTok |\n"
        "| Claude Haiku 3    |",
    )
    page = OLD[:start] + OLD[end:] + "\n\n" + section  # model table now at the end of the page
    changed = anthropic.parse(page, OBSERVED)
    assert {identity(o): prices_of(o) for o in old}.items() <= {
        identity(o): prices_of(o) for o in changed
    }.items()
    haiku5 = one(changed, "claude-haiku-5")
    assert (haiku5.input_per_mtok, haiku5.output_per_mtok) == (D(2), D(10))


def test_reordered_columns_are_read_by_header(old):
    header = "| Model             | Base Input Tokens | 5m Cache Writes | 1h Cache Writes | Cache Hits & Refreshes | Output Tokens |"
    assert header in OLD
    swapped = OLD.replace(
        header,
        "| Model | Output Tokens | 5m Cache Writes | 1h Cache Writes | Cache Hits & Refreshes | Base Input Tokens |",
    ).replace(
        "| Claude Sonnet 4.5   | $3 / MTok         | $3.75 / MTok    | $6 / MTok       | $0.30 / MTok | $15 / MTok    |",
        "| Claude Sonnet 4.5 | $15 / MTok | $3.75 / MTok | $6 / MTok | $0.30 / MTok | $3 / MTok |",
    )
    obs = one(anthropic.parse(swapped, OBSERVED), "claude-sonnet-4-5")
    assert (obs.input_per_mtok, obs.output_per_mtok) == (D(3), D(15))


def test_page_without_tables_is_terminal_naming_source_and_url():
    stripped = "\n".join(line for line in OLD.splitlines() if not line.startswith("|"))
    with pytest.raises(TerminalSourceError) as err:
        anthropic.parse(stripped, OBSERVED)
    assert str(err.value).startswith(f"anthropic ({anthropic.URL}):")
