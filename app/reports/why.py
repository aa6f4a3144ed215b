"""Why spend moved (:func:`drivers`): the change of the known spend from last week to this week
split into requests, retries and failures, model mix, price changes, cache, request size and
unpriced attempts, each part one factor's Shapley value, so that the parts add up to the change
exactly (the method is in docs/reports.md)."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

# The factors of the week's known spend, in the order the report lists them: (key, label).
PARTS = (
    ("volume", "requests"),
    ("retries_failures", "retries and failures"),
    ("model_mix", "model mix"),
    ("prices", "price changes"),
    ("cache", "cache"),
    ("request_size", "request size"),
    ("unpriced", "unpriced attempts"),
)
_PER_MODEL = ("model_mix", "unpriced", "request_size", "prices", "cache")
_NEUTRAL = {"unpriced": Fraction(1), "request_size": Fraction(0), "prices": Fraction(1)}
_CENT = Decimal("0.000000000001")  # the marts' money scale, DECIMAL(24, 12)


def _fr(v: Any) -> Fraction:
    return Fraction(0) if v is None else Fraction(v if isinstance(v, float | int) else Decimal(v))


def _ratio(a: Fraction, b: Fraction) -> Fraction | None:
    return a / b if b else None


def _week_factors(rows: list[dict[str, Any]]) -> tuple[int, dict[Any, dict[str, Any]]]:
    """(attempts, per model: the factors that hold for one attempt of it) of one week:
    ``model_mix`` its share of the attempts, ``unpriced`` the share of them priced,
    ``request_size`` the cost of a priced attempt before any cache at last week's prices,
    ``prices`` this week's prices against last week's, ``cache`` the share caching saved.
    None where the week has nothing to tell it from."""
    attempts = sum(int(r["attempts"]) for r in rows)
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        n, priced = int(r["attempts"]), int(r["priced_attempts"])
        spend, saved = _fr(r["spend_usd"]), _fr(max(float(r["cache_saved_usd"] or 0), 0.0))
        gross = spend + saved  # before any cache, at the prices it ran at
        before = _fr(r["gross_week_before_usd"]) if r["this_week"] else gross
        if before <= 0 < gross:  # no price a week before: nothing to compare with
            before = gross
        out[(r["provider"], r["model"])] = {
            "model_mix": Fraction(n, attempts) if attempts else None,
            "unpriced": Fraction(priced, n) if n else None,
            "request_size": _ratio(before, Fraction(priced)),
            "prices": _ratio(gross, before),
            "cache": _ratio(saved, gross),
            "spend": spend,
            "saved": saved,
            "before": before,
            "attempts": n,
            "priced": priced,
            "repriced": int(r.get("repriced_attempts") or 0),
        }
    return attempts, out


def _filled(a: Fraction | None, b: Fraction | None, neutral: Fraction) -> Fraction:
    """A factor of one week, or where that week cannot tell it (no attempt of the model,
    nothing priced) the other week's, so that switching it changes nothing."""
    return a if a is not None else b if b is not None else neutral


def _shapley(value: Any, n: int) -> list[Fraction]:
    """Each of ``n`` factors' average contribution over every order of switching them from last
    week's value to this week's (the Shapley value). ``value(mask)``: the spend with the factors
    in ``mask`` (bit i: factor i) at this week's values. The parts add up to
    ``value(all) - value(none)`` exactly (Fractions)."""
    values = {mask: value(mask) for mask in range(1 << n)}
    weight = [Fraction(math.factorial(k) * math.factorial(n - k - 1), math.factorial(n))
              for k in range(n)]  # fmt: skip
    out = []
    for i in range(n):
        bit = 1 << i
        out.append(
            sum(
                (weight[bin(m).count("1")] * (values[m | bit] - values[m])
                 for m in range(1 << n) if not m & bit),
                Fraction(0),
            )
        )  # fmt: skip
    return out


def _decimals(parts: list[Fraction], total: Decimal) -> list[Decimal]:
    """``parts`` at the marts' money scale, the rounding put on the largest so they still add up
    to ``total`` exactly."""
    with localcontext() as ctx:  # enough digits for the largest part at the money scale
        ctx.prec = 40 + max((len(str(abs(p.numerator) // p.denominator)) for p in parts), default=0)
        out = [(Decimal(p.numerator) / Decimal(p.denominator)).quantize(_CENT) for p in parts]
        if out:
            big = max(range(len(out)), key=lambda i: abs(out[i]))
            out[big] += total - sum(out, Decimal(0))
    return [x if x else abs(x) for x in out]  # no -0


def drivers(rows: list[dict[str, Any]], prev_requests: int, requests: int) -> dict[str, Any]:
    """Why the known spend moved from last week to this week, in parts that add up to the
    change exactly. Spend = requests x attempts per request x the sum over models of (share of
    the attempts x share of them priced x cost of a priced attempt before cache at last week's
    prices x price change x (1 - share saved by caching)); each part is one factor's Shapley
    value (docs/reports.md)."""
    weeks = [[r for r in rows if not r["this_week"]], [r for r in rows if r["this_week"]]]
    (a0, m0), (a1, m1) = _week_factors(weeks[0]), _week_factors(weeks[1])
    spend = [sum((Decimal(r["spend_usd"] or 0) for r in w), Decimal(0)) for w in weeks]
    # requests: a week whose attempts fall on days its requests do not is counted as one
    n = [max(prev_requests, 1 if a0 else 0), max(requests, 1 if a1 else 0)]
    per_request = [_ratio(Fraction(a0), Fraction(n[0])), _ratio(Fraction(a1), Fraction(n[1]))]
    r = [_filled(per_request[0], per_request[1], Fraction(1)),
         _filled(per_request[1], per_request[0], Fraction(1))]  # fmt: skip
    models = sorted(set(m0) | set(m1), key=str)
    cells = {}
    for m in models:
        c0, c1 = m0.get(m, {}), m1.get(m, {})
        cells[m] = [
            {
                f: _filled(
                    mine.get(f),
                    other.get(f),
                    Fraction(0) if f in ("model_mix", "cache") else _NEUTRAL[f],
                )
                for f in _PER_MODEL
            }
            for mine, other in ((c0, c1), (c1, c0))
        ]
        if not a0:  # no attempt last week: this week's mix, so all of it is requests
            cells[m][0]["model_mix"] = cells[m][1]["model_mix"]
        if not a1:
            cells[m][1]["model_mix"] = cells[m][0]["model_mix"]
    keys = [k for k, _ in PARTS]

    def value(mask: int) -> Fraction:
        at = {k: (mask >> i) & 1 for i, k in enumerate(keys)}
        total = Fraction(0)
        for m in models:
            x = {f: cells[m][at[f]][f] for f in _PER_MODEL}
            total += (
                x["model_mix"] * x["unpriced"] * x["request_size"] * x["prices"] * (1 - x["cache"])
            )
        return n[at["volume"]] * r[at["retries_failures"]] * total

    exact = _shapley(value, len(keys))
    change = spend[1] - spend[0]
    amounts = _decimals(exact, change)
    details = _details(m0, m1, n, per_request, a0, a1)
    return {
        "spend_usd": spend[1],
        "prev_spend_usd": spend[0],
        "change_usd": change,
        "method": "shapley",
        "parts": [
            {"part": k, "label": label, "usd": amounts[i], **details.get(k, {})}
            for i, (k, label) in enumerate(PARTS)
        ],
    }


def _details(
    m0: dict[Any, dict[str, Any]],
    m1: dict[Any, dict[str, Any]],
    n: list[int],
    per_request: list[Fraction | None],
    a0: int,
    a1: int,
) -> dict[str, dict[str, Any]]:
    """What stands behind each part, for the reader: the two weeks' figures."""

    def total(m: dict[Any, dict[str, Any]], key: str) -> Fraction:
        return sum((c[key] for c in m.values()), Fraction(0))

    def num(x: Fraction | None) -> float | None:
        return None if x is None else float(x)

    shifts = []
    for key in sorted(set(m0) | set(m1), key=str):
        s0 = m0.get(key, {}).get("model_mix") or Fraction(0)
        s1 = m1.get(key, {}).get("model_mix") or Fraction(0)
        if s0 != s1:
            shifts.append({"provider": key[0], "model": key[1], "share": float(s1),
                           "prev_share": float(s0)})  # fmt: skip
    shifts.sort(key=lambda x: -abs(x["share"] - x["prev_share"]))
    priced = [total(m0, "priced"), total(m1, "priced")]
    return {
        "volume": {"requests": n[1], "prev_requests": n[0]},
        "retries_failures": {
            "attempts_per_request": num(per_request[1]),
            "prev_attempts_per_request": num(per_request[0]),
            "attempts": a1,
            "prev_attempts": a0,
        },
        "model_mix": {"shifts": shifts[:3]},
        "prices": {
            "repriced_attempts": int(total(m1, "repriced")),
            "models": sorted(f"{k[1]} ({k[0]})" for k, c in m1.items() if c["repriced"]),
        },
        "cache": {
            "saved_usd": float(total(m1, "saved")),
            "prev_saved_usd": float(total(m0, "saved")),
        },
        "request_size": {
            "cost_per_priced_attempt_usd": num(_ratio(total(m1, "before"), priced[1])),
            "prev_cost_per_priced_attempt_usd": num(_ratio(total(m0, "before"), priced[0])),
        },
        "unpriced": {
            "priced_share": num(_ratio(priced[1], Fraction(a1))),
            "prev_priced_share": num(_ratio(priced[0], Fraction(a0))),
        },
    }
