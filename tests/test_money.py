"""How the report words money (app.money), the one definition every format uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app import money


@pytest.mark.parametrize(
    ("spend", "unpriced", "attempts", "shown", "status"),
    [
        (Decimal("31.29"), 0, 10, "$31.29", "priced"),
        (Decimal("31.29"), 15908, 20000, "$31.29 + 15,908 unpriced attempts", "partial"),
        (Decimal("31.29"), 1, 2, "$31.29 + 1 unpriced attempt", "partial"),
        (None, 40, 40, "unpriced (40 attempts)", "unpriced"),
        # a known $0 beside unpriced attempts (only not-billed failures priced): still unknown
        (Decimal(0), 40, 45, "unpriced (40 attempts)", "unpriced"),
        (Decimal(0), 0, 12, "$0.00", "priced"),  # priced at $0 (cache hits): a real $0
    ],
)
def test_spend_text_never_shows_unpriced_as_zero(
    spend: Decimal | None, unpriced: int, attempts: int, shown: str, status: str
) -> None:
    assert money.spend_text(spend, unpriced) == shown
    assert money.spend_status(spend, unpriced, attempts) == status
    assert "$0.00" not in shown or status == "priced"


def test_no_attempt_is_no_figure_in_a_table_row() -> None:
    assert money.spend_status(Decimal(0), 0, 0) == "none"
    assert money.spend_text(Decimal(0), 0, attempts=0) == "-"
    assert money.spend_text(Decimal(0), 0) == "$0.00"  # a week without traffic cost nothing
    assert money.spend_text(None, 0) == "-"


def test_failed_attempts_noun() -> None:
    got = money.spend_text(Decimal("0.15"), 12, "failed attempts")
    assert got == "$0.1500 + 12 unpriced failed attempts"
    assert money.spend_text(None, 1, "failed attempts") == "unpriced (1 failed attempt)"


def test_cost_per_success_with_its_coverage_or_unknown() -> None:
    assert money.cost_text(0.0231, 1.0, None) == "$0.0231"
    assert money.cost_text(0.0231, 0.976, None) == "$0.0231 (97% of requests priced)"
    assert money.cost_text(0.0231, 0.976, None, "attempts") == "$0.0231 (97% of attempts priced)"
    reason = "only 76% of requests priced"
    assert money.cost_text(None, 0.766, reason) == f"unknown ({reason})"
    assert money.cost_text(None, None, None) == "-"  # no request at all


def test_a_projection_of_a_lower_bound_is_a_lower_bound() -> None:
    assert money.at_least(Decimal("12.5"), 3) == "at least $12.50"
    assert money.at_least(Decimal("12.5"), 0) == "$12.50"
    assert money.at_least(None, 3) == "unknown"


@pytest.mark.parametrize(
    ("spend", "unpriced", "label", "value"),
    [
        (Decimal("4.28"), 308, "Spend (+ 308 unpriced attempts)", "$4.28"),
        (Decimal("4.28"), 1, "Spend (+ 1 unpriced attempt)", "$4.28"),
        (Decimal("4.28"), 0, "Spend", "$4.28"),
        (None, 40, "Spend", "unpriced (40 attempts)"),
        (Decimal(0), 40, "Spend", "unpriced (40 attempts)"),  # a $0 known part is no figure
    ],
)
def test_a_spend_card_keeps_its_value_short_and_says_the_same(
    spend: Decimal | None, unpriced: int, label: str, value: str
) -> None:
    assert money.spend_card("Spend", spend, unpriced) == (label, value)
    # label and value together say what the sentence says
    whole = money.spend_text(spend, unpriced)
    assert value == whole or f"{value} + {label.split('(+ ')[1].rstrip(')')}" == whole


def test_a_cost_card_puts_coverage_in_the_label_and_why_unknown_under_the_value() -> None:
    title = "Cost per successful request"
    assert money.cost_card(title, 0.0231, 1.0, None) == (title, "$0.0231", None)
    assert money.cost_card(title, 0.0231, 0.976, None) == (
        f"{title} (97% of requests priced)",
        "$0.0231",
        None,
    )
    reason = "only 76% of requests priced"
    assert money.cost_card(title, None, 0.766, reason) == (title, "unknown", reason)
    assert money.cost_card(title, None, None, None) == (title, "-", None)
