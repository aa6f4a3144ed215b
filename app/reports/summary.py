"""The summary: three lines first in every rendering of the report (spend and its change, why it
moved, the one action to take first) and every action the report asks for, most pressing
first."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from app import money


def _signed(v: Any) -> str:
    x = Decimal(v)
    return ("-" if x < 0 else "+") + money.usd(abs(x))


def _why_line(d: dict[str, Any]) -> str:
    """``Why: +$80.10 requests (1,000 → 1,098), +$40.00 model mix, ...``: the parts
    that move at least a cent, largest first."""
    shown = sorted(
        (p for p in d["parts"] if abs(p["usd"]) >= Decimal("0.005")),
        key=lambda p: -abs(p["usd"]),
    )
    if not shown:
        return "Why: nothing moved by a cent."
    words = []
    for p in shown:
        text = f"{_signed(p['usd'])} {p['label']}"
        if p["part"] == "volume" and p["prev_requests"]:
            text += f" ({p['prev_requests']:,} → {p['requests']:,})"
        elif p["part"] == "retries_failures" and p["prev_attempts_per_request"]:
            text += (
                f" ({p['prev_attempts_per_request']:.2f} → "
                f"{p['attempts_per_request']:.2f} attempts per request)"
            )
        words.append(text)
    return "Why: " + ", ".join(words) + "."


def _actions(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything the report asks someone to do, most pressing first: a budget heading over, a
    routing proposal to approve, a slowdown or spike to look at, a model to price."""
    out: list[dict[str, Any]] = []
    links = report["links"]
    for b in report["budget"]["rows"]:
        if b.get("projected_share") is not None and b["projected_share"] >= 1:
            out.append({
                "kind": "budget",
                "text": f"Rein in {b['label']}: projected at {b['projected_share']:.0%} of its "
                f"{money.usd(b['budget_usd'])} monthly budget.",
                "link": links["dashboard"],
            })  # fmt: skip
    p = report["proposal"]
    prices_only = None
    if p and not p.get("rejected"):
        sv = p.get("savings") or {}
        saved, spend = sv.get("savings_usd"), sv.get("current_spend_usd")
        of = f" ({float(saved) / float(spend):.1%} of spend)" if saved and spend else ""
        changed = [t["task"] for t in p.get("tasks") or [] if t.get("status") == "changed"]
        tasks = f" for task{'s' if len(changed) > 1 else ''} {', '.join(changed)}"
        window = f"replaying {p['window']['since']} to {p['window']['until']}"
        if changed and saved and saved > 0:
            out.append({
                "kind": "proposal",
                "text": f"Approve the routing proposal{tasks}: estimated savings "
                f"{money.usd(saved)}{of} {window}.",
                "link": links["routing"],
            })  # fmt: skip
        elif changed:
            out.append({
                "kind": "proposal",
                "text": f"Review the routing proposal{tasks}: it changes their chains "
                f"(estimated savings {money.usd(saved)} {window}).",
                "link": links["routing"],
            })  # fmt: skip
        else:  # only the manifest's prices: least pressing, listed last
            n = len(p.get("providers") or [])
            prices_only = {
                "kind": "proposal",
                "text": f"Approve the routing proposal: it brings the manifest's "
                f"cost_per_output_token of {n} provider{'s' if n != 1 else ''} up to the prices "
                "in force.",
                "link": links["routing"],
            }
    for r in report["regressions"]:
        out.append({
            "kind": "regression",
            "text": f"Look at {r['model']} ({r['provider']}): P95 latency "
            f"{float(r['ratio']):.1f}x last week's, {float(r['p95_ms']):,.0f} ms.",
            "link": links["dashboard"],
        })  # fmt: skip
    for sp in report["spikes"]:
        out.append({
            "kind": "spike",
            "text": f"Look at {sp['scope']} {sp['name']}: {sp['metric']} "
            f"{float(sp['value']):.1%}, up from {float(sp['prev']):.1%}.",
            "link": links["dashboard"],
        })  # fmt: skip
    for u in report["unpriced"]:
        if u["unpriced_attempts"]:
            out.append({
                "kind": "unpriced",
                "text": f"Price {u['model']} ({u['provider'] or 'no provider'}): "
                f"{int(u['unpriced_attempts']):,} attempts this week have no price "
                "(`routeledger prices unmatched`).",
                "link": links["dashboard"],
            })  # fmt: skip
    if prices_only:
        out.append(prices_only)
    return out


_KINDS = {  # an action's kind, one and many, as the summary counts them
    "budget": ("budget over", "budgets over"),
    "proposal": ("routing proposal", "routing proposals"),
    "regression": ("slowdown", "slowdowns"),
    "spike": ("error or retry spike", "error or retry spikes"),
    "unpriced": ("unpriced model", "unpriced models"),
}


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Three lines before everything else: spend and its change, why it moved, the first
    action (``actions`` holds all of them)."""
    t, d = report["totals"], report["drivers"]
    spend = money.spend_text(t["spend_usd"], t["unpriced_attempts"])
    prev = t["prev"]
    if not money.count(prev["attempts"]):
        moved = f"nothing in {report['previous_week']}"
    elif t["change_pct"] is None:
        moved = f"against {money.spend_text(prev['spend_usd'], prev['unpriced_attempts'])} in "
        moved += report["previous_week"]
    else:
        word = "up" if t["change_pct"] > 0 else "down" if t["change_pct"] < 0 else "unchanged"
        moved = (
            f"{word} {abs(t['change_pct']):.1%} ({_signed(d['change_usd'])}) from "
            f"{money.spend_text(prev['spend_usd'], prev['unpriced_attempts'])} in "
            f"{report['previous_week']}"
        )
    actions = _actions(report)
    if actions:
        act = f"Do first: {actions[0]['text']}"
        rest = Counter(a["kind"] for a in actions[1:])
        if rest:
            act += (
                " Also below: "
                + ", ".join(
                    f"{n} {_KINDS[k][0] if n == 1 else _KINDS[k][1]}" for k, n in rest.items()
                )
                + "."
            )
    else:
        act = "Do first: nothing needs you this week."
    lines = [f"Spend {spend} in {report['week']}, {moved}.", _why_line(d), act]
    return {"lines": lines, "actions": actions}
