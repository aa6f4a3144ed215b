"""Alerts: monthly budgets (total, per team, per task), each threshold alerted once a month; and
incidents (the ``incidents`` mart), each alerted once.

For each budget of the configuration (``budget.monthly_usd``, ``[budget.teams]``,
``[budget.tasks]``) and each share in ``budget.alert_thresholds``, :func:`check` compares the
local month's spend so far, and its linear projection to the month's end (spend / elapsed days x
days in the month, elapsed counted to the minute and at least one day), with the budget. The first
time either reaches the threshold, the (month, scope, threshold) row of ``budget_alerts`` is
claimed, then the alert goes out on the configured channels (webhook and/or e-mail) in one
message per run. A claimed row is never alerted again that month; a delivery that failed is
retried by the next runs, at most :data:`MAX_ATTEMPTS` times.

Unpriced attempts are never counted as $0: with some, the month's known spend is a lower bound
(a threshold it reaches is really reached) and the alert says so ("spent at least $X so far (N
attempts unpriced, not counted)"); with nothing priced there is no figure and no alert.

:func:`check_incidents` claims every incident of the ``incidents`` mart (error spikes, rate-limit
storms, P95 regressions, price changes, new unpriced models) that was still going on within
:data:`INCIDENT_HORIZON` and was never claimed, in ``incident_alerts`` (its ``incident_id`` is
stable while the incident grows), then sends the claimed ones on the same channels, one message
per run, retried like a budget alert. Nothing is claimed while no channel is configured, so the
recent ones go out once one is.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app import incidents, money, queries, text_safety
from app.reports import deliver
from app.reports import queries as q
from collectors import pipeline
from collectors.config import Config
from collectors.errors import RouteLedgerError
from collectors.http import RetryPolicy
from collectors.warehouse import Warehouse

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CENT = Decimal("0.000001")
INCIDENT_HORIZON = timedelta(days=3)
"""An incident that ended longer ago than this is history (found by a backfill, or when serve
first runs on an old warehouse), not news: it is listed on the Overview but never alerted."""


@dataclass(frozen=True)
class BudgetStatus:
    scope: str  # total | team | task
    name: str  # the team or task; "" for the total
    budget_usd: Decimal
    spend_usd: Decimal | None  # month to date, its known part; None when nothing is priced
    projected_usd: Decimal | None  # linear to the month's end
    pace_usd: Decimal  # the budget times the share of the month elapsed
    unpriced_attempts: int = 0  # attempts without a price: spend is then a lower bound

    @property
    def label(self) -> str:
        return "all spend" if self.scope == "total" else f"{self.scope} {self.name}"

    def as_dict(self) -> dict[str, Any]:
        known = self.spend_usd is not None
        return {
            "scope": self.scope,
            "name": self.name,
            "label": self.label,
            "budget_usd": self.budget_usd,
            "spend_usd": self.spend_usd,
            "unpriced_attempts": self.unpriced_attempts,
            "spend_is_lower_bound": self.unpriced_attempts > 0,
            "projected_usd": self.projected_usd,
            "pace_usd": self.pace_usd,
            "share": float(self.spend_usd / self.budget_usd) if known else None,
            "projected_share": (
                float(self.projected_usd / self.budget_usd)
                if self.projected_usd is not None
                else None
            ),
            "over_pace": known and self.spend_usd > self.pace_usd,
        }


def budgets(cfg: Config) -> list[tuple[str, str, Decimal]]:
    """(scope, name, USD) of every configured budget above 0."""
    out = []
    total = Decimal(str(cfg.get("budget.monthly_usd")))
    if total > 0:
        out.append(("total", "", total))
    for scope, key in (("team", "budget.teams"), ("task", "budget.tasks")):
        for name, usd in sorted(cfg.get(key).items()):
            if usd > 0:
                out.append((scope, str(name), Decimal(str(usd))))
    return out


def statuses(
    cfg: Config,
    total: q.Spent,
    teams: dict[str, q.Spent],
    tasks: dict[str, q.Spent],
    elapsed_days: float,
    days_in_month: int,
) -> list[BudgetStatus]:
    """Each budget against the month's spend so far, its pace and its projection. Unpriced
    attempts are never counted as $0: the known part is a lower bound of the spend (and its
    projection of the projected spend), and nothing known is no figure at all."""
    spent = {"team": teams, "task": tasks}
    elapsed = Decimal(str(max(1.0, min(elapsed_days, days_in_month))))
    out = []
    for scope, name, budget in budgets(cfg):
        s = total if scope == "total" else spent[scope].get(name, q.NOTHING_SPENT)
        spend = money.known_spend(s.spend_usd, s.unpriced_attempts)
        out.append(
            BudgetStatus(
                scope,
                name,
                budget,
                None if spend is None else Decimal(spend),
                None
                if spend is None
                else (Decimal(spend) / elapsed * days_in_month).quantize(CENT),
                (budget * elapsed / days_in_month).quantize(CENT),
                s.unpriced_attempts,
            )
        )
    return out


def crossed(status: BudgetStatus, threshold: float) -> str | None:
    """'actual' when month-to-date spend reached the threshold, 'projected' when only its
    projection did, else None. With unpriced attempts the known part is a lower bound, so its
    crossing is a real one; with nothing priced nothing can be said (None)."""
    if status.spend_usd is None or status.projected_usd is None:
        return None
    line = status.budget_usd * Decimal(str(threshold))
    if status.spend_usd >= line:
        return "actual"
    if status.projected_usd >= line:
        return "projected"
    return None


def _usd(v: Decimal) -> str:
    return f"${float(v):,.2f}"


def describe(row: dict[str, Any]) -> str:
    """One line per alert. With unpriced attempts (``row["unpriced_attempts"]``, the month's
    count when it is sent) the spend is a lower bound and said to be: "at least $X"."""
    who = "all spend" if row["scope"] == "total" else f"{row['scope']} {row['scope_value']}"
    month = row["month"].strftime("%Y-%m")
    budget, spend, projected = row["budget_usd"], row["spend_usd"], row["projected_usd"]
    pct = f"{row['threshold'] * 100:.0f}%"
    n = money.count(row.get("unpriced_attempts"))
    least = "at least " if n else ""
    spent = f"spent {least}{_usd(spend)} so far"
    if n:
        spent += f" ({n:,} attempt{'s' if n != 1 else ''} unpriced, not counted)"
    if row["basis"] == "actual":
        return (
            f"{month}, {who}: {spent}, {least}{float(spend / budget) * 100:.0f}% of "
            f"its {_usd(budget)} monthly budget (threshold {pct}); projected {least}"
            f"{_usd(projected)} by the month's end."
        )
    return (
        f"{month}, {who}: on course for {least}{_usd(projected)} by the month's end, "
        f"{least}{float(projected / budget) * 100:.0f}% of its {_usd(budget)} monthly budget "
        f"(threshold {pct}); {spent}."
    )


def _payload(cfg: Config, lines: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    if cfg.get("delivery.webhook_kind") == "json":
        return {"event": "budget_alert", "alerts": [deliver.jsonable(r) for r in rows]}
    return deliver.chat_message("RouteLedger budget alert", lines)


def check(
    cfg: Config,
    now: datetime | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> dict[str, Any]:
    """Claim and send the alerts due now; ``{"budgets", "new", "sent", "failed", "alerts"}``."""
    if not budgets(cfg):
        return {"budgets": 0, "new": 0, "sent": 0, "failed": 0, "alerts": []}
    zone = ZoneInfo(cfg.timezone)
    local = (now or datetime.now(UTC)).astimezone(zone)
    month = local.date().replace(day=1)
    elapsed = (local - datetime.combine(month, time(0), zone)).total_seconds() / 86400
    days = calendar.monthrange(month.year, month.month)[1]
    thresholds = sorted(set(cfg.get("budget.alert_thresholds")))
    detected = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    pipeline.update_marts(cfg)
    wh = Warehouse.from_config(cfg)
    new = 0
    with wh.connect() as con:
        rows = statuses(cfg, *q.month_spend(con, month, local.date()), elapsed, days)
        unpriced = {(s.scope, s.name): s.unpriced_attempts for s in rows}
        known = q.alert_keys(con, month)
        for s in rows:
            for t in thresholds:
                basis = crossed(s, t)
                if basis is None or (s.scope, s.name, t) in known:
                    continue
                q.insert_alert(
                    con,
                    {
                        "month": month,
                        "scope": s.scope,
                        "scope_value": s.name,
                        "threshold": t,
                        "basis": basis,
                        "budget_usd": s.budget_usd,
                        "spend_usd": s.spend_usd,
                        "projected_usd": s.projected_usd,
                        "detected_at": detected,
                    },
                )
                new += 1
        due = q.alerts_to_send(con, month, MAX_ATTEMPTS)
    for r in due:  # budget_alerts keeps the spend when detected; the unpriced count is now's
        r["unpriced_attempts"] = unpriced.get((r["scope"], r["scope_value"]), 0)
        r["spend_is_lower_bound"] = r["unpriced_attempts"] > 0
    result: dict[str, Any] = {"budgets": len(rows), "new": new, "sent": 0, "failed": 0}
    result["alerts"] = [describe(r) for r in due]
    if not due:
        return result
    status, channels, detail = _send(cfg, due, transport, policy)
    with wh.connect() as con:
        for r in due:
            key = (r["month"], r["scope"], r["scope_value"], r["threshold"])
            q.finish_alert(con, key, status, channels, detail)
    result["sent" if status in ("sent", "recorded") else "failed"] = len(due)
    return result


def _send(
    cfg: Config,
    rows: list[dict[str, Any]],
    transport: httpx.BaseTransport | None,
    policy: RetryPolicy | None,
) -> tuple[str, str, str | None]:
    """The budget alerts ``rows`` as one message on every channel (:func:`_deliver`)."""
    lines = [describe(r) for r in rows]
    first = rows[0]
    who = "all spend" if first["scope"] == "total" else first["scope_value"]
    more = f" and {len(rows) - 1} more" if len(rows) > 1 else ""
    subject = f"RouteLedger budget alert: {who} at {first['threshold'] * 100:.0f}%{more}"
    text = "RouteLedger budget alert\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    message = deliver.Message(subject, text)
    payload = _payload(cfg, lines, rows)
    return _deliver(cfg, "budget alert", payload, message, transport, policy)


def _deliver(
    cfg: Config,
    what: str,
    payload: dict[str, Any],
    message: deliver.Message,
    transport: httpx.BaseTransport | None,
    policy: RetryPolicy | None,
) -> tuple[str, str, str | None]:
    """(status, channels that took it, one-line detail). Sent when any channel took it: the
    others are named in the detail rather than sent the alert twice."""
    worked, errors = [], []
    if deliver.webhook_configured(cfg):
        try:
            deliver.post_webhook(cfg, payload, transport=transport, policy=policy)
            worked.append("webhook")
        except RouteLedgerError as e:
            errors.append(f"webhook: {e}")
    if deliver.email_configured(cfg):
        try:
            deliver.send_email(cfg, message, policy=policy)
            worked.append("email")
        except RouteLedgerError as e:
            errors.append(f"email: {e}")
    for e in errors:
        log.warning("%s delivery failed: %s", what, e)
    detail = "; ".join(errors)[:500] or None
    if not worked and not errors:
        return "recorded", "", "no webhook or e-mail configured"
    return ("sent" if worked else "failed"), ", ".join(worked), detail


deliver_alert = _deliver
"""The one delivery of every alert (budgets, incidents, provider bills: app.reports.bill_alerts)."""


# -- incidents ------------------------------------------------------------------------------------


def _incident_payload(cfg: Config, lines: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    title = f"RouteLedger: {len(rows)} new incident{'s' if len(rows) != 1 else ''}"
    if cfg.get("delivery.webhook_kind") == "json":
        items = [{**deliver.jsonable(r), "text": line} for r, line in zip(rows, lines, strict=True)]
        return {"event": "incident", "timezone": cfg.timezone, "incidents": items}
    heading = f"{title} (times in {cfg.timezone})"
    return deliver.chat_message(title, lines, heading=heading, verbatim=True)


def check_incidents(
    cfg: Config,
    now: datetime | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> dict[str, Any]:
    """Claim and send the incidents due now (see the module);
    ``{"channels", "new", "sent", "failed", "alerts"}``, ``alerts`` the lines sent."""
    configured = deliver.webhook_configured(cfg) or deliver.email_configured(cfg)
    result: dict[str, Any] = {"channels": configured, "new": 0, "sent": 0, "failed": 0}
    result["alerts"] = []
    if not configured:
        return result
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    pipeline.update_marts(cfg)
    wh = Warehouse.from_config(cfg)
    with wh.connect() as con:
        result["new"] = queries.claim_incidents(con, at - INCIDENT_HORIZON, at)
        due = queries.incident_alerts_due(con, MAX_ATTEMPTS)
    if not due:
        return result
    zone = ZoneInfo(cfg.timezone)
    lines = [incidents.line(r, zone) for r in due]
    result["alerts"] = lines
    first = f"{incidents.kind_text(due[0]['kind'])}, {incidents.subject(due[0])}"
    more = f" and {len(due) - 1} more" if len(due) > 1 else ""
    subject = text_safety.one_line(f"RouteLedger incident: {first}{more}")[:200]
    text = (
        f"RouteLedger: {len(due)} new incident{'s' if len(due) != 1 else ''} "
        f"(times in {cfg.timezone})\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    )
    payload = _incident_payload(cfg, lines, due)
    status, channels, detail = _deliver(
        cfg, "incident alert", payload, deliver.Message(subject, text), transport, policy
    )
    with wh.connect() as con:
        queries.finish_incident_alerts(
            con, [r["incident_id"] for r in due], status, channels, detail
        )
    result["sent" if status in ("sent", "recorded") else "failed"] = len(due)
    return result
