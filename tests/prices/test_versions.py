"""The pure derivation of validity periods (no warehouse)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from collectors.prices.versions import (
    SINCE_EVER,
    VALUE_FIELDS,
    Island,
    Version,
    apply_discounts,
    derive,
    jump,
    review_id,
)

STD = ("standard", 0, None, None, False)
D1, D2, D3, D4 = (datetime(2026, 1, d) for d in (1, 2, 3, 4))


def prices(inp: str | None = None, out: str | None = None, discount: str | None = None):
    values = dict.fromkeys(VALUE_FIELDS)
    values["input_per_mtok"] = None if inp is None else Decimal(inp)
    values["output_per_mtok"] = None if out is None else Decimal(out)
    values["discount_pct"] = None if discount is None else Decimal(discount)
    return tuple(values.values())


def island(schedule, first_n, last_n, first_at, last_at, series=STD):
    return Island({series: schedule}, first_n, last_n, first_at, last_at, f"r{first_n}")


REFRESHES = {1: (D1, "r1"), 2: (D2, "r2"), 3: (D3, "r3"), 4: (D4, "r4")}


def test_jump_thresholds():
    old = {STD: ((None, prices("1", "2")),)}
    assert jump(old, {STD: ((None, prices("4.9", "2")),)}, 5.0) is None
    assert "x5.1" in jump(old, {STD: ((None, prices("5.1", "2")),)}, 5.0)
    assert "x0.1" in jump(old, {STD: ((None, prices("0.1", "2")),)}, 5.0)
    assert "zero" in jump(old, {STD: ((None, prices("0", "2")),)}, 5.0)
    assert jump(old, {STD: ((None, prices(None, "2")),)}, 5.0) is None  # a dimension dropped


def test_scheduled_prices_cut_versions_at_their_dates():
    schedule = ((None, prices("1", "2")), (D3, prices("3", "4")))
    history = derive("catalog", "p", "m", [island(schedule, 1, 1, D1, D1)], REFRESHES, 1, {}, 5.0)
    assert [(v.prices[0], v.valid_from, v.valid_to) for v in history.versions] == [
        (Decimal(1), SINCE_EVER, D3),
        (Decimal(3), D3, None),
    ]


def test_scheduled_price_without_a_base_starts_at_its_date():
    schedule = ((D2, prices("7", "8")),)
    history = derive("override", "p", "m", [island(schedule, 1, 1, D1, D1)], REFRESHES, 1, {}, None)
    assert [(v.valid_from, v.valid_to) for v in history.versions] == [(D2, None)]


def test_held_jump_then_back_to_the_old_price_leaves_no_pending_review():
    a, b = ((None, prices("1", "2")),), ((None, prices("10", "2")),)
    islands = [island(a, 1, 1, D1, D1), island(b, 2, 2, D2, D2), island(a, 3, 3, D3, D3)]
    history = derive("openrouter", "p", "m", islands, REFRESHES, 3, {}, 5.0)
    assert history.reviews == []
    assert [(v.valid_from, v.valid_to, v.last_observed_at) for v in history.versions] == [
        (SINCE_EVER, None, D3)
    ]


def test_confirmed_vanish_then_reappearance_starts_a_new_version():
    a = ((None, prices("1", "2")),)
    islands = [island(a, 1, 1, D1, D1), island(a, 3, 3, D3, D3)]
    vanished = review_id("openrouter", "p", "m", "vanished", "vanished:" + islands[0].fingerprint)
    history = derive("openrouter", "p", "m", islands, REFRESHES, 3, {vanished: "confirmed"}, 5.0)
    assert [(v.valid_from, v.valid_to) for v in history.versions] == [(SINCE_EVER, D2), (D3, None)]
    assert history.changed_at == {3}


def test_pending_vanish_at_the_end_is_the_current_review():
    a = ((None, prices("1", "2")),)
    history = derive("litellm", "p", "m", [island(a, 1, 2, D1, D2)], REFRESHES, 4, {}, 5.0)
    assert [r.kind for r in history.reviews] == ["vanished"]
    assert history.reviews[0].detected_at == D3 and history.reviews[0].refresh_id == "r3"
    assert history.versions[0].valid_to is None


def _v(provider, model, start, end, p, source="litellm"):
    return Version(source, provider, model, STD, p, start, end, None, None)


def test_discounts_model_specific_wins_and_versions_are_cut():
    price = _v("anthropic", "claude-x", SINCE_EVER, None, prices("3", "15"))
    wide = _v("anthropic", "*", D2, None, prices(discount="10"), "override")
    specific = _v("anthropic", "claude-x", D3, D4, prices(discount="25"), "override")
    out = apply_discounts([price], [wide, specific])
    assert [(v.valid_from, v.valid_to, v.prices[-1]) for v in out] == [
        (SINCE_EVER, D2, None),
        (D2, D3, Decimal(10)),
        (D3, D4, Decimal(25)),
        (D4, None, Decimal(10)),
    ]
    assert len({v.version_id for v in out}) == 4
    own = _v("anthropic", "claude-x", SINCE_EVER, None, prices("1", "1"), "override")
    assert apply_discounts([own], [wide]) == [own]  # the user's own price is not discounted again


# --- first readings against the price in force below (issue 15, item 5) ---------------------


def _catalog(p, start=SINCE_EVER, end=None, source="catalog"):
    return Version(source, "p", "m", STD, p, start, end, D1, D1)


def test_first_reading_to_zero_against_a_lower_source_is_held():
    zero = island(((None, prices("0", "0")),), 2, 2, D2, D2)
    below = [_catalog(prices("0.1", "0.4"))]
    history = derive("litellm", "p", "m", [zero], REFRESHES, 2, {}, 5.0, below=below)
    assert history.versions == [] and history.changed_at == set()
    [review] = history.reviews
    assert (review.kind, review.detected_at, review.refresh_id) == ("first_reading", D2, "r2")
    assert review.review_id == review_id("litellm", "p", "m", "first_reading", zero.fingerprint)
    assert "catalog" in review.detail and "to/from zero" in review.detail

    confirmed = {review.review_id: "confirmed"}
    history = derive("litellm", "p", "m", [zero], REFRESHES, 2, confirmed, 5.0, below=below)
    assert [(v.prices[0], v.valid_from, v.valid_to) for v in history.versions] == [
        (Decimal(0), SINCE_EVER, None)
    ]
    assert history.reviews == []
    rejected = {review.review_id: "rejected"}
    history = derive("litellm", "p", "m", [zero], REFRESHES, 2, rejected, 5.0, below=below)
    assert history.versions == [] and history.reviews == []


def test_first_reading_within_the_factor_or_with_nothing_below_is_applied():
    near = island(((None, prices("0.45", "0.4")),), 2, 2, D2, D2)  # x4.5 < 5
    below = [_catalog(prices("0.1", "0.4"))]
    for b in (below, [], [_catalog(prices("9", "9"), end=D2)]):  # the last: no longer in force
        history = derive("litellm", "p", "m", [near], REFRESHES, 2, {}, 5.0, below=b)
        assert history.reviews == [] and len(history.versions) == 1


def test_first_reading_is_compared_with_lower_precedence_only_and_the_best_of_them():
    zero = island(((None, prices("0", "0")),), 2, 2, D2, D2)
    higher = [_catalog(prices("1", "1"), source="openrouter")]  # outranks litellm: not below it
    history = derive("litellm", "p", "m", [zero], REFRESHES, 2, {}, 5.0, below=higher)
    assert history.reviews == [] and len(history.versions) == 1
    two = [_catalog(prices("1", "1")), _catalog(prices("0", "0"), source="litellm")]
    history = derive("openrouter", "p", "m", [zero], REFRESHES, 2, {}, 5.0, below=two)
    assert history.reviews == []  # litellm's $0 is the price in force, not the catalog's $1


def test_first_reading_applied_by_an_earlier_rebuild_stays_applied():
    zero = island(((None, prices("0", "0")),), 1, 2, D1, D2)
    below = [_catalog(prices("0.1", "0.4"))]
    earlier = [Version("litellm", "p", "m", STD, prices("0", "0"), SINCE_EVER, None, D1, D1)]
    history = derive(
        "litellm", "p", "m", [zero], REFRESHES, 2, {}, 5.0, below=below, before=earlier
    )
    assert history.reviews == [] and len(history.versions) == 1


def test_overrides_first_reading_is_never_held():
    zero = island(((None, prices("0", "0")),), 2, 2, D2, D2)
    below = [_catalog(prices("0.1", "0.4"))]
    history = derive("override", "p", "m", [zero], REFRESHES, 2, {}, None, below=below)
    assert history.reviews == [] and len(history.versions) == 1


def test_held_first_reading_of_a_model_no_longer_listed_is_moot():
    zero = island(((None, prices("0", "0")),), 2, 2, D2, D2)
    below = [_catalog(prices("0.1", "0.4"))]
    history = derive("litellm", "p", "m", [zero], REFRESHES, 3, {}, 5.0, below=below)
    assert history.reviews == [] and history.versions == []
