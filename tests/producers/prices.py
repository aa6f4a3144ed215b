"""Prices for the recorded producers' models, as a `routeledger prices refresh --source overrides`
file: the recordings' tests price the fake models exactly as the producers did."""

from __future__ import annotations

from decimal import Decimal


def overrides(prices: dict[str, tuple[Decimal, Decimal]], provider: str = "openai") -> str:
    """A price-overrides YAML of ``prices`` (model -> USD per 1M input and output tokens)."""
    return "prices:\n" + "".join(
        f"  - provider: {provider}\n    model: {m}\n    input_per_mtok: {i}\n"
        f"    output_per_mtok: {o}\n    valid_from: 2026-01-01\n"
        for m, (i, o) in prices.items()
    )
