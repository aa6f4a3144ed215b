"""Shared helpers for the price tests: recorded fixtures and observation lookup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from collectors.prices.common import is_skip
from collectors.records import PriceObservation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"
PAGES = FIXTURES / "pages"
OBSERVED = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def one(
    observations: Iterable[PriceObservation],
    model_id: str,
    *,
    provider: str | None = None,
    variant: str = "standard",
    tier: int = 0,
    window: tuple[time, time] | None = None,
    priced: bool = True,
) -> PriceObservation:
    """The single observation for this identity; fails the test when there are 0 or 2+."""
    hits = [
        o
        for o in observations
        if o.model_id == model_id
        and (provider is None or o.provider == provider)
        and o.variant == variant
        and o.tier_min_prompt_tokens == tier
        and (window is None or (o.window_start_utc, o.window_end_utc) == window)
        and (window is not None or o.window_start_utc is None)
        and is_skip(o) != priced
    ]
    assert len(hits) == 1, f"{len(hits)} observations for {provider}/{model_id} {variant} {tier}"
    return hits[0]


@pytest.fixture(scope="session")
def observed_at() -> datetime:
    return OBSERVED
