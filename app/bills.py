"""The providers' bills as every surface tells them (the Reconciliation page, the weekly report,
``routeledger bills drift``, the drift alerts): what each origin of a drift means, and one line
per provider-day.

Drift is billed minus RouteLedger's recomputed cost: positive when the provider billed more.
Its share is of the bill. A recomputed cost with no priced attempt is unknown, never $0."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ORIGINS: dict[str, str] = {
    "matches": "matches the bill",
    "bill_only": "billed but not in the gateway's logs (calls that bypassed the gateway, "
    "another key, or a model the logs never name)",
    "gateway_only": "in the gateway's logs but not billed",
    "unpriced": "attempts without a price, so RouteLedger's figure is short",
    "failed_billed": "failed attempts billed that the billing policy counts as free",
    "failed_not_billed": "failed attempts not billed that the billing policy counts at their usage",
    "cache_counted_twice": "cached tokens counted as fresh input as well",
    "cache_tokens": "cache reads or writes priced differently from the bill",
    "unexplained": "not explained by failed attempts, cache tokens or unpriced models",
}
"""Each origin code of the ``bill_reconciliation`` mart, in words."""

IMPORT_HELP = (
    "Import a provider's usage and cost export with `routeledger bills import FILE...`, or "
    "fetch them with admin keys: `routeledger prices bills --since YYYY-MM-DD` "
    "(OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY)."
)


def origin_text(code: str | None) -> str:
    return ORIGINS.get(code or "", code or "")


def usd(value: Any) -> str:
    if value is None:
        return "unknown"
    return f"${Decimal(value):,.2f}"


def signed_usd(value: Any) -> str:
    if value is None:
        return "unknown"
    v = Decimal(value)
    return f"{'+' if v >= 0 else '-'}${abs(v):,.2f}"


def share(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{float(value) * 100:+.1f}%"


def day_line(row: dict[str, Any]) -> str:
    """``2026-03-03, openai: billed $12.34, recomputed $11.00, drift +$1.34 (+10.9%): failed
    attempts not billed ...``"""
    head = f"{row['day']}, {row['provider']}: billed {usd(row['billed_usd'])}, "
    head += f"recomputed {usd(row['recomputed_usd'])}"
    if row.get("drift_usd") is None:
        return head + ": drift unknown (" + origin_text("unpriced") + ")"
    drift = f", drift {signed_usd(row['drift_usd'])} ({share(row.get('drift_share'))})"
    return head + drift + ": " + origin_text(row.get("origin"))
