"""OpenAI docs pricing page (Markdown twin), spot-checked against the recording by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collectors.errors import TerminalSourceError
from collectors.prices.pages import openai
from tests.prices.conftest import OBSERVED, PAGES, one

D = Decimal
PAGE = (PAGES / "openai_docs_pricing_2026-08.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def obs():
    return openai.parse(PAGE, OBSERVED)


def test_gpt_4o_mini_standard_batch_priority(obs):
    # "### Standard pricing data": | gpt-4o-mini | $0.15 | $0.075 | - | $0.60 | - | - | - | - |
    std = one(obs, "gpt-4o-mini", provider="openai")
    assert (std.input_per_mtok, std.cached_input_per_mtok, std.output_per_mtok) == (
        D("0.15"),
        D("0.075"),
        D("0.60"),
    )
    assert std.cache_write_5m_per_mtok is None  # "-": not offered
    # "### Batch pricing data": | gpt-4o-mini | $0.075 | - | - | $0.30 | ...
    batch = one(obs, "gpt-4o-mini", variant="batch")
    assert (batch.input_per_mtok, batch.cached_input_per_mtok, batch.output_per_mtok) == (
        D("0.075"),
        None,
        D("0.30"),
    )
    # "Fast mode" / "### Fast pricing data": | gpt-4o-mini | $0.25 | $0.125 | - | $1.00 | ...
    fast = one(obs, "gpt-4o-mini", variant="priority")
    assert (fast.input_per_mtok, fast.output_per_mtok) == (D("0.25"), D("1.00"))


def test_flex_tier(obs):
    # "### Flex pricing data": | o4-mini | $0.55 | $0.138 | - | $2.20 | ...
    flex = one(obs, "o4-mini", variant="flex")
    assert (flex.input_per_mtok, flex.cached_input_per_mtok, flex.output_per_mtok) == (
        D("0.55"),
        D("0.138"),
        D("2.20"),
    )


def test_long_context_tier_from_the_model_cell_note(obs):
    # | gpt-5.5 (<272K context length) | $5.00 | $0.50 | - | $30.00 | $10.00 | $1.00 | - | $45.00 |
    short = one(obs, "gpt-5.5")
    long = one(obs, "gpt-5.5", tier=272_000)
    assert (short.input_per_mtok, short.output_per_mtok) == (D("5.00"), D("30.00"))
    assert (long.input_per_mtok, long.cached_input_per_mtok, long.output_per_mtok) == (
        D("10.00"),
        D("1.00"),
        D("45.00"),
    )
    assert long.note == ""  # its own cell said <272K


def test_long_context_without_a_note_uses_the_threshold_the_table_agrees_on(obs):
    # | gpt-5.6-sol | $4.00 | $0.40 | $5.00 | $20.00 | $8.00 | $0.80 | $10.00 | $30.00 |
    long = one(obs, "gpt-5.6-sol", tier=272_000)
    assert (long.input_per_mtok, long.cache_write_5m_per_mtok) == (D("8.00"), D("10.00"))
    assert "taken from the other rows" in long.note


def test_no_long_tier_where_the_page_offers_none(obs):
    assert not [o for o in obs if o.model_id == "gpt-4o-mini" and o.tier_min_prompt_tokens]


def test_free_dash_and_other_units(obs):
    # | Moderation | omni-moderation-latest | Free | - | - |
    free = one(obs, "omni-moderation-latest")
    assert free.input_per_mtok == 0 and free.output_per_mtok is None
    # | tts-1 | Text | $15.00 / 1M characters | - | - |  (not per token: skipped with a note)
    tts = one(obs, "tts-1", priced=False)
    assert "1M characters" in tts.note
    # | gpt-5.4-cyber | - | - | ... |  (nothing offered)
    assert "no price offered" in one(obs, "gpt-5.4-cyber", priced=False).note


def test_modality_rows_text_prices_and_audio_in_extra(obs):
    # | gpt-realtime | Audio | $32.00 | $0.40 | $64.00 |  and  | gpt-realtime | Text | $4.00 | $0.40 | $16.00 |
    rt = one(obs, "gpt-realtime")
    assert (rt.input_per_mtok, rt.output_per_mtok) == (D("4.00"), D("16.00"))
    assert rt.extra["audio_input_per_mtok"] == "32.00"


def test_fine_tuning_rows_never_price_the_base_model(obs):
    # Finetuning table: | gpt-4o-mini-2024-07-18 | $3.00 | $0.30 | $0.15 | $1.20 |
    ft = one(obs, "ft:gpt-4o-mini-2024-07-18")
    assert (ft.input_per_mtok, ft.output_per_mtok) == (D("0.30"), D("1.20"))
    assert not [o for o in obs if o.model_id == "gpt-4o-mini-2024-07-18"]
    assert not [o for o in obs if "data" in o.model_id and "sharing" in o.model_id]


def test_video_and_tool_tables_are_not_token_prices(obs):
    assert not [o for o in obs if o.model_id.startswith("sora")]
    assert not [o for o in obs if o.model_id in ("web-search", "containers")]


# --- robustness: the page changes shape ------------------------------------------------------


def _section(text: str, start: str, end: str) -> tuple[str, str]:
    i, j = text.index(start), text.index(end)
    return text[i:j], text[:i] + text[j:]


def test_moved_section_renamed_heading_and_added_row_still_parse(obs):
    batch, rest = _section(PAGE, "Batch\n", "Flex\n")
    moved = rest + "\n\n" + batch  # Batch section now at the very end of the page
    moved = moved.replace("### Batch pricing data", "### Batch API prices (async)")
    moved = moved.replace(
        "| gpt-4o-mini | $0.15 | $0.075 | - | $0.60 | - | - | - | - |",
        "| gpt-4o-mini | $0.15 | $0.075 | - | $0.60 | - | - | - | - |\n"
        "| gpt-9-mini (<272K context length) | $0.11 | $0.011 | - | $0.44 | $0.22 | - | - | $0.88 |",
    )
    changed = openai.parse(moved, OBSERVED)
    batch_obs = one(changed, "gpt-4o-mini", variant="batch")
    assert (batch_obs.input_per_mtok, batch_obs.output_per_mtok) == (D("0.075"), D("0.30"))
    new = one(changed, "gpt-9-mini")
    assert (new.input_per_mtok, new.output_per_mtok) == (D("0.11"), D("0.44"))
    assert one(changed, "gpt-9-mini", tier=272_000).output_per_mtok == D("0.88")
    assert {(o.model_id, o.variant, o.tier_min_prompt_tokens) for o in obs} <= {
        (o.model_id, o.variant, o.tier_min_prompt_tokens) for o in changed
    }


def test_disagreeing_thresholds_are_not_guessed():
    # a new row with its own <400K note: rows without a note (gpt-5.6-sol) no longer have one
    # threshold to borrow
    row = "| gpt-4o-mini | $0.15 | $0.075 | - | $0.60 | - | - | - | - |"
    page = PAGE.replace(
        row, row + "\n| gpt-9 (<400K context length) | $1 | - | - | $2 | $3 | - | - | $4 |", 1
    )
    obs = openai.parse(page, OBSERVED)
    assert one(obs, "gpt-9", tier=400_000).input_per_mtok == 3
    # long prompts would be priced short: the model is not priced from this page at all
    assert "threshold" in one(obs, "gpt-5.6-sol", priced=False).note
    standard = [o for o in obs if o.model_id == "gpt-5.6-sol" and o.variant == "standard"]
    assert [o.input_per_mtok for o in standard] == [None]
    # the other tables still agree on 272K among themselves
    assert one(obs, "gpt-5.6-sol", variant="batch", tier=272_000).input_per_mtok == D("4.00")


def test_relabelled_tier_that_collides_is_never_silently_standard():
    # both the heading and the label of the Batch table lose their tier word: its rows now
    # claim to be standard prices and disagree with the real standard table -> skipped, not wrong
    page = PAGE.replace("\nBatch\n", "\nAsync\n").replace(
        "### Batch pricing data", "### Async data"
    )
    obs = openai.parse(page, OBSERVED)
    clash = one(obs, "gpt-4o-mini", priced=False)
    assert "conflicting duplicate" in clash.note


def test_page_without_price_tables_is_terminal_naming_source_and_url():
    stripped = "\n".join(line for line in PAGE.splitlines() if not line.startswith("|"))
    with pytest.raises(TerminalSourceError) as err:
        openai.parse(stripped, OBSERVED, url=openai.URL)
    assert str(err.value).startswith(f"openai ({openai.URL}):")
