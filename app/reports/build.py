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
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app import bills, money
from app.reports import alerts
from app.reports import queries as q
from app.reports.routing import decisions_in, pending_proposal, verification
from app.reports.summary import summary
from app.reports.week import Week, label_of, last_complete_week, parse_week, week_of
from app.reports.why import PARTS, drivers
from collectors import pipeline
from collectors.config import Config
from collectors.warehouse import Warehouse

__all__ = [  # build() and, from the modules it is made of, the names callers reach through it
    "MIN_N",
    "PARTS",
    "SPIKE_FACTOR",
    "SPIKE_MIN_POINTS",
    "Week",
    "build",
    "change",
    "decisions_in",
    "drivers",
    "label_of",
    "last_complete_week",
    "parse_week",
    "pending_proposal",
    "summary",
    "week_of",
]

log = logging.getLogger(__name__)

MIN_N = 20
SPIKE_FACTOR = 2.0
SPIKE_MIN_POINTS = 0.05


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


def _bills(rows: list[dict[str, Any]], days: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The week's provider bills against RouteLedger (UTC days), each provider's drift with
    its origins in words; None when no bill covers the week."""
    if not rows:
        return None
    for r in rows:
        r["origins"] = [{**o, "text": bills.origin_text(o["origin"])} for o in r["origins"] or []]
    for d in days:
        d["line"] = bills.day_line(d)
    return {"providers": rows, "days": days}


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
        bill_rows = q.bill_week(con, *week.days)
        bill_days = q.bill_days(con, *week.days)
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
        "verification": verification(cfg),
        "models_by_task": models,
        "links": {"dashboard": base, "routing": f"{base}/routing", "reports": f"{base}/reports"},
        "drivers": drivers(
            driver_rows, int(prev_totals["logical_requests"]), int(cur_totals["logical_requests"])
        ),
    }
    report["bills"] = _bills(bill_rows, bill_days)
    report["summary"] = summary(report)
    return report
