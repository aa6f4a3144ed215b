"""The weekly report's figures: one calendar week in the configured time zone, from the marts.

A week is named by its ISO label ``YYYY-Www``. With ``calendar.week_start`` other than Monday,
the week called ``2026-W10`` is the one starting on that weekday that contains the Monday of ISO
week 10, so a label always names exactly one week and every week has one label.

What is compared with what (the thresholds are constants here and in docs/reports.md):

* spend, per provider, model, task and team: this week against the week before;
* the month's budget pace: spend of the local month up to the week's last day against the
  budget times the share of the month elapsed, and its linear projection to the month's end;
* P95 latency per model: a regression when it grew by more than ``report.regression_factor``
  with at least :data:`MIN_N` successful attempts in both weeks;
* retry and error spikes: a rate at least :data:`SPIKE_FACTOR` times last week's and
  :data:`SPIKE_MIN_POINTS` higher, with at least :data:`MIN_N` requests or attempts in both weeks;
* why spend moved (:func:`drivers`): the change of the known spend split into requests, retries
  and failures, model mix, price changes, cache, request size and unpriced attempts, parts that
  add up to the change exactly (the method is in docs/reports.md);
* the summary (:func:`summary`): three lines first in every rendering: spend and its change,
  why it moved, and the one action to take first (all of them in ``summary.actions``).

Money (:mod:`app.money`): a spend none of whose attempts has a price is None, never $0,
and a partly priced one is its known part beside its count of unpriced attempts (every spend
figure has ``unpriced_attempts`` and a ``*_status``: none, unpriced, partial, priced). Cost per
successful request is the marts' own (``task_stats``, ``model_task_stats``: over priced requests,
with ``price_coverage``, or None with ``cost_unknown_reason``); models are the canonical ones
(dated snapshots folded). Spend on failed attempts comes with the billing policy in force
(``billing``: ``Config.billing_rules()``, worded).
"""

from __future__ import annotations

import calendar
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from app import money, window
from app.reports import alerts
from app.reports import queries as q
from app.tuner import approvals
from app.tuner import proposal as tuner
from collectors import pipeline
from collectors.config import Config
from collectors.errors import InputError, RouteLedgerError
from collectors.warehouse import Warehouse

log = logging.getLogger(__name__)

MIN_N = 20
SPIKE_FACTOR = 2.0
SPIKE_MIN_POINTS = 0.05
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")


@dataclass(frozen=True)
class Week:
    label: str
    since: date  # first local day
    until: date  # last local day, inclusive

    @property
    def days(self) -> tuple[date, date]:
        return (self.since, self.until)

    @property
    def previous(self) -> Week:
        start = self.since - timedelta(days=7)
        return Week(label_of(start), start, start + timedelta(days=6))

    def utc_range(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) of the week in naive UTC, as the warehouse stores times."""
        zone = ZoneInfo(tz)

        def at(d: date) -> datetime:
            return datetime.combine(d, time(0), zone).astimezone(UTC).replace(tzinfo=None)

        return at(self.since), at(self.until + timedelta(days=1))


def label_of(start: date) -> str:
    """The ISO label of the week starting on ``start``: that of the Monday it contains."""
    monday = start + timedelta(days=(-start.weekday()) % 7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(day: date, week_start: str) -> Week:
    w = window.week_of(day, week_start)  # the calendar week, as app.window defines windows
    return Week(label_of(w.since), w.since, w.until)


def parse_week(text: str, week_start: str) -> Week:
    m = _WEEK_RE.match(text.strip())
    try:
        if not m:
            raise ValueError(text)
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InputError(f"--week {text!r}: expected an ISO week such as 2026-W07") from None
    return week_of(monday, week_start)


def last_complete_week(cfg: Config, now: datetime | None = None) -> Week:
    """The calendar week before the one ``now`` falls in, in the configured time zone."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(cfg.timezone)).date()
    return week_of(week_of(today, cfg.week_start).since - timedelta(days=1), cfg.week_start)


def change(cur: Any, prev: Any) -> float | None:
    """Relative change, or None when there is nothing to compare with."""
    if cur is None or prev is None or prev == 0:
        return None
    return float((Decimal(cur) - Decimal(prev)) / Decimal(prev))


def _rate(part: Any, whole: Any) -> float | None:
    return float(part) / float(whole) if whole else None


def _spike(value: float | None, prev: float | None, n: int, prev_n: int) -> bool:
    if value is None or prev is None or n < MIN_N or prev_n < MIN_N:
        return False
    return value >= prev * SPIKE_FACTOR and value - prev >= SPIKE_MIN_POINTS


def pending_proposal(cfg: Config) -> tuple[dict[str, Any] | None, str]:
    """The tuner's pending routing proposal (``routeledger tune --json`` shape), or a note why
    there is none. Pending = what the tuner proposes from the evidence now, when it differs from
    the manifest in force (approving regenerates and installs exactly that). A proposal someone
    already rejected (the same proposed text against the same manifest) carries that decision
    in ``rejected``: the report says so and does not offer it for approval again."""
    path = tuner.manifest_path(cfg)
    if not path.is_file():
        return None, f"no proposal: no routing manifest at {path} (tuner.manifest)"
    try:
        proposal = tuner.propose(cfg)
    except RouteLedgerError as e:
        return None, f"no proposal: {e}"
    if not proposal.changed:
        return None, "no proposal: the routing manifest is up to date with the evidence"
    doc = proposal.as_json()
    doc["rejected"] = next(
        (
            {k: d[k] for k in ("decided_at", "decided_by", "comment")}
            for d in approvals.history(cfg, path)["decisions"]  # newest first
            if d["decision"] == "rejected"
            and d["proposed_sha256"] == proposal.sha256
            and d["previous_sha256"] == proposal.manifest.sha256
        ),
        None,
    )
    return doc, ""


def decisions_in(cfg: Config, week: Week) -> list[dict[str, Any]]:
    """Approvals, rejections and rollbacks of the routing manifest decided in ``week`` (local
    days), oldest first."""
    path = tuner.manifest_path(cfg)
    tz = ZoneInfo(cfg.timezone)
    out = []
    for d in reversed(approvals.history(cfg, path)["decisions"]):
        local = d["decided_at"].replace(tzinfo=UTC).astimezone(tz).date()
        if week.since <= local <= week.until:
            out.append({k: d[k] for k in ("decided_at", "decision", "decided_by", "comment")})
    return out


def _known(row: dict[str, Any], spend: str, unpriced: str, attempts: str) -> None:
    """``row[spend]`` as its known part (None, never $0, when nothing of it is known; a true $0
    when there was no attempt at all), with ``<spend>_status``: none, unpriced, partial or
    priced (:mod:`app.money`)."""
    if money.count(row[attempts]):
        row[spend] = money.known_spend(row[spend], row[unpriced])
    else:
        row[spend] = Decimal(0)  # nothing happened: that costs nothing, and is known to
    row[spend.removesuffix("_usd") + "_status"] = money.spend_status(
        row[spend], row[unpriced], row[attempts]
    )


def _spend_rows(rows: list[dict[str, Any]], total: Decimal | None) -> list[dict[str, Any]]:
    for r in rows:
        _known(r, "spend_usd", "unpriced_attempts", "attempts")
        _known(r, "prev_spend_usd", "prev_unpriced_attempts", "prev_attempts")
    known = [Decimal(r["spend_usd"]) for r in rows if r["spend_usd"] is not None]
    top = max(known, default=None)
    for r in rows:
        cur, prev = r["spend_usd"], r["prev_spend_usd"]
        both = cur is not None and prev is not None
        r["change_usd"] = Decimal(cur) - Decimal(prev) if both else None
        r["change_pct"] = change(cur, prev)
        r["share"] = float(Decimal(cur) / total) if cur is not None and total else None
        r["bar"] = float(Decimal(cur) / top) if cur is not None and top else None
    return rows


def _tasks(cur: list[dict[str, Any]], prev: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per task, the mart's cost per successful request (``task_stats``: over priced requests,
    with its price coverage, or NULL with the reason) beside last week's."""
    before = {r["task"]: r for r in prev}
    out = []
    for r in cur:
        p = before.get(r["task"], {})
        out.append(
            {
                "task": r["task"],
                "logical_requests": r["logical_requests"],
                "succeeded": r["succeeded"],
                "success_rate": r["success_rate"],
                "spend_usd": r["spend_usd"],
                "unpriced_attempts": r["unpriced_attempts"],
                "priced_requests": r["priced_requests"],
                "price_coverage": r["price_coverage"],
                "cost_per_success_usd": r["cost_per_successful_request_usd"],
                "cost_unknown_reason": r["cost_unknown_reason"],
                "prev_cost_per_success_usd": p.get("cost_per_successful_request_usd"),
                "prev_price_coverage": p.get("price_coverage"),
                "prev_cost_unknown_reason": p.get("cost_unknown_reason"),
                "cost_change_pct": change(
                    r["cost_per_successful_request_usd"], p.get("cost_per_successful_request_usd")
                ),
                "spend_on_failed_requests_usd": r["spend_on_failed_requests_usd"],
                "p95_ms": r["p95_ms"],
                "latency_n": r["latency_n"],
                "retry_rate": r["retry_rate"],
                "prev_retry_rate": p.get("retry_rate"),
                "prev_logical_requests": p.get("logical_requests", 0),
                "fallback_rate": r["fallback_rate"],
            }
        )
    return out


def _latency(rows: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    for r in rows:
        r["ratio"] = (
            float(r["p95_ms"]) / float(r["prev_p95_ms"])
            if r["p95_ms"] is not None and r["prev_p95_ms"]
            else None
        )
        r["regression"] = bool(
            r["ratio"] is not None
            and r["ratio"] > factor
            and r["n"] >= MIN_N
            and r["prev_n"] >= MIN_N
        )
    return rows


def _spikes(tasks: list[dict[str, Any]], errors: dict[str, list[dict[str, Any]]]) -> list[Any]:
    out: list[dict[str, Any]] = []
    for t in tasks:
        n, prev_n = int(t["logical_requests"]), int(t["prev_logical_requests"])
        if _spike(t["retry_rate"], t["prev_retry_rate"], n, prev_n):
            out.append(
                {
                    "metric": "retry rate",
                    "scope": "task",
                    "name": t["task"],
                    "value": t["retry_rate"],
                    "prev": t["prev_retry_rate"],
                    "n": n,
                }
            )
    for scope, rows in errors.items():
        for r in rows:
            value = _rate(r["errors"], r["attempts"])
            prev = _rate(r["prev_errors"], r["prev_attempts"])
            if _spike(value, prev, int(r["attempts"]), int(r["prev_attempts"])):
                out.append(
                    {
                        "metric": "error rate",
                        "scope": scope,
                        "name": r["name"],
                        "value": value,
                        "prev": prev,
                        "n": int(r["attempts"]),
                    }
                )
    return out


def _budget(cfg: Config, con: Any, week: Week) -> dict[str, Any]:
    month = week.until.replace(day=1)
    elapsed = (week.until - month).days + 1
    days = calendar.monthrange(month.year, month.month)[1]
    total, teams, tasks = q.month_spend(con, month, week.until)
    rows = alerts.statuses(cfg, total, teams, tasks, elapsed, days)
    return {
        "month": month.strftime("%Y-%m"),
        "through": week.until.isoformat(),
        "elapsed_days": elapsed,
        "days_in_month": days,
        "month_to_date_usd": money.known_spend(total.spend_usd, total.unpriced_attempts),
        "month_unpriced_attempts": total.unpriced_attempts,
        "rows": [s.as_dict() for s in rows],
    }


def build(cfg: Config, week: Week, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the report for ``week`` (values as the marts give them: Decimal money)."""
    pipeline.update_marts(cfg)
    prev = week.previous
    factor = float(cfg.get("report.regression_factor"))
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        cur_totals = q.totals(con, *week.days)
        prev_totals = q.totals(con, *prev.days)
        spend_by = {d: q.spend_by(con, d, week.days, prev.days) for d in q.DIMENSIONS}
        tasks = _tasks(q.task_stats(con, *week.days), q.task_stats(con, *prev.days))
        latency = _latency(q.p95_by_model(con, week.days, prev.days), factor)
        errors = {d: q.error_rates(con, d, week.days, prev.days) for d in ("task", "model")}
        classes = q.error_classes(con, week.days, prev.days)
        changes = q.price_changes(con, *week.utc_range(cfg.timezone))
        unpriced = q.unpriced(con, *week.days)
        models = q.model_task_stats(con, *week.days)
        budget = _budget(cfg, con, week)
        driver_rows = q.spend_drivers(con, week.days, prev.days)
    for t in (cur_totals, prev_totals):
        _known(t, "spend_usd", "unpriced_attempts", "attempts")
        _known(t, "spend_on_failures_usd", "unpriced_failed_attempts", "failed_attempts")
    for rows in spend_by.values():
        _spend_rows(rows, cur_totals["spend_usd"])
    for m in models:
        _known(m, "spend_usd", "unpriced_attempts", "attempts")
    proposal, proposal_note = pending_proposal(cfg)
    decisions = decisions_in(cfg, week)
    base = str(cfg.get("report.dashboard_url")).rstrip("/")
    report = {
        "week": week.label,
        "since": week.since.isoformat(),
        "until": week.until.isoformat(),
        "previous_week": prev.label,
        "timezone": cfg.timezone,
        "week_start": cfg.week_start,
        "generated_at": (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None),
        "totals": {
            **cur_totals,
            "success_rate": _rate(cur_totals["succeeded"], cur_totals["logical_requests"]),
            "prev": prev_totals,
            "change_pct": change(cur_totals["spend_usd"], prev_totals["spend_usd"]),
        },
        "billing": money.billing_policy(cfg),
        "min_price_coverage": float(cfg.get("metrics.min_price_coverage")),
        "budget": budget,
        "spend_by": spend_by,
        "tasks": tasks,
        "latency": latency,
        "regressions": [r for r in latency if r["regression"]],
        "regression_factor": factor,
        "spikes": _spikes(tasks, errors),
        "error_classes": classes,
        "price_changes": changes,
        "unpriced": unpriced,
        "proposal": proposal,
        "proposal_note": proposal_note,
        "decisions": decisions,
        "models_by_task": models,
        "links": {"dashboard": base, "routing": f"{base}/routing", "reports": f"{base}/reports"},
        "drivers": drivers(
            driver_rows, int(prev_totals["logical_requests"]), int(cur_totals["logical_requests"])
        ),
    }
    report["summary"] = summary(report)
    return report


# -- why spend moved ------------------------------------------------------------------------------

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


# -- the summary ----------------------------------------------------------------------------------


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
