"""How money is told, once for every surface: the CLI, the pages, the report (HTML, text, CSV,
JSON, chat, e-mail) and the alerts.

* **Unpriced is never $0.** The marts leave a spend NULL when none of its attempts has a price;
  :func:`known_spend` also treats a known part of exactly $0 beside unpriced attempts (only
  not-billed failures or cache hits were priced) as unknown: $0 plus an unknown amount is
  unknown. :func:`spend_text` shows ``unpriced (N attempts)`` for it, and a partly priced
  figure as its known part plus the count, ``$31.29 + 15,908 unpriced attempts``.
* **Cost per success is the marts'.** ``task_stats`` and ``model_task_stats`` compute it over
  priced requests (attempts) only and give their price coverage, or NULL with a reason below
  ``metrics.min_price_coverage``; :func:`cost_text` shows it with that coverage, or
  ``unknown (only 76% of requests priced)``. Nothing here computes it.
* **Spend on failures names its billing policy**: :func:`billing_policy` words
  ``Config.billing_rules()`` (``[billing]`` and ``[billing.providers.<slug>]``).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from collectors.config import Config

_POLICY_WORDS = {
    "usage": "failed attempts billed at logged usage",
    "reported": "failed attempts billed at the gateway's reported cost (else logged usage)",
    "none": "failed attempts not billed",
}


def _missing(v: Any) -> bool:
    """None, NaN (a frame's missing value) or a template's missing value (jinja2's Undefined,
    told by its type so the CLI need not import jinja2)."""
    if v is None or (isinstance(v, float) and v != v):
        return True
    kind = type(v)
    return kind.__module__.startswith("jinja2") and "Undefined" in kind.__name__


def count(v: Any) -> int:
    """A count of attempts as an int; a missing count is none counted."""
    return 0 if _missing(v) else int(v)


def usd(v: Any) -> str:
    """A known dollar amount; ``-`` for a missing one (never ``$0.00``)."""
    if _missing(v):
        return "-"
    x = float(v)
    if x == 0:
        return "$0.00"
    if abs(x) >= 1:
        return f"${x:,.2f}"
    return f"${x:.4f}" if abs(x) >= 0.01 else f"${x:.6f}"


def known_spend(spend: Any, unpriced: Any) -> Any:
    """The known part of a spend figure, or None when none of it is known: no attempt priced
    (the mart's NULL), or unpriced attempts beside priced ones that cost exactly $0."""
    if _missing(spend) or (count(unpriced) and Decimal(spend) == 0):
        return None
    return spend


def spend_status(spend: Any, unpriced: Any, attempts: Any) -> str:
    """``none`` (no attempt), ``unpriced`` (nothing known), ``partial`` (a known part and
    unpriced attempts) or ``priced``."""
    if not count(attempts):
        return "none"
    if known_spend(spend, unpriced) is None:
        return "unpriced"
    return "partial" if count(unpriced) else "priced"


def _attempts(n: int, noun: str) -> str:
    return f"{n:,} {noun if n != 1 else noun.removesuffix('s')}"


def spend_text(spend: Any, unpriced: Any = 0, noun: str = "attempts", attempts: Any = None) -> str:
    """``$12.30``; ``$12.30 + 40 unpriced attempts``; ``unpriced (40 attempts)``; ``-`` when
    there is no figure at all, or, given ``attempts``, when there was no attempt (a table row
    with no traffic that week: nothing to show rather than a $0.00 beside "unpriced")."""
    if attempts is not None and not _missing(attempts) and not count(attempts):
        return "-"
    n = count(unpriced)
    known = known_spend(spend, n)
    if known is None:
        return f"unpriced ({_attempts(n, noun)})" if n else "-"
    return f"{usd(known)} + {_attempts(n, 'unpriced ' + noun)}" if n else usd(known)


def spend_card(label: str, spend: Any, unpriced: Any = 0) -> tuple[str, str]:
    """A spend figure split for a metric card, whose value line is short: the known part as the
    value and the unpriced attempts in the label ("Spend (+ 308 unpriced attempts)", "$4.28");
    nothing known: the label as it is and "unpriced (N attempts)". Together they say what
    :func:`spend_text` says."""
    n = count(unpriced)
    if n and known_spend(spend, n) is not None:
        return f"{label} (+ {_attempts(n, 'unpriced attempts')})", usd(spend)
    return label, spend_text(spend, n)


def cost_card(
    label: str, value: Any, coverage: Any, reason: Any, noun: str = "requests"
) -> tuple[str, str, str | None]:
    """A cost per success split for a metric card: label, value and a note for the card's
    delta line when the value is unknown ("unknown" and "only 76% of requests priced"); a
    partial coverage goes in the label ("... (97% of requests priced)", "$0.0231")."""
    if _missing(value):
        has_reason = not _missing(reason) and bool(reason)
        return label, "unknown" if has_reason else "-", str(reason) if has_reason else None
    if not _missing(coverage) and float(coverage) < 1:
        return f"{label} ({coverage_text(coverage, noun)})", usd(value), None
    return label, usd(value), None


def at_least(v: Any, unpriced: Any = 0) -> str:
    """A figure derived from a partly priced spend (a projection): ``at least $X``."""
    if _missing(v):
        return "unknown" if count(unpriced) else "-"
    return f"at least {usd(v)}" if count(unpriced) else usd(v)


def coverage_text(coverage: Any, noun: str = "requests") -> str:
    """``76% of requests priced``, rounded down as the marts' reasons are."""
    if _missing(coverage):
        return "-"
    return f"{math.floor(float(coverage) * 100)}% of {noun} priced"


def cost_text(value: Any, coverage: Any, reason: Any, noun: str = "requests") -> str:
    """A cost per success as the mart gives it: ``$0.0231``, ``$0.0231 (97% of requests
    priced)`` or ``unknown (only 76% of requests priced)``."""
    if _missing(value):
        return f"unknown ({reason})" if not _missing(reason) and reason else "-"
    if not _missing(coverage) and float(coverage) < 1:
        return f"{usd(value)} ({coverage_text(coverage, noun)})"
    return usd(value)


def _rule_text(policy: str, classes: list[str]) -> str:
    words = _POLICY_WORDS.get(policy, f"failed attempts billed by policy {policy!r}")
    if policy != "none" and classes:
        words += f"; {', '.join(classes)} not billed"
    return words


def billing_policy(cfg: Config) -> dict[str, Any]:
    """The failed-attempt billing policy in force: its rules (``Config.billing_rules()``) and
    one sentence for the report, e.g. "failed attempts billed at logged usage; rate_limit,
    auth, bad_request, context_length not billed"."""
    rules = cfg.billing_rules()
    texts = []
    for provider, policy, classes in rules:
        words = _rule_text(policy, classes)
        texts.append(words if provider is None else f"{provider}: {words}")
    return {
        "rules": [
            {"provider": p, "failed_attempts": pol, "not_billed_error_classes": list(c)}
            for p, pol, c in rules
        ],
        "text": ". ".join(texts),
    }
