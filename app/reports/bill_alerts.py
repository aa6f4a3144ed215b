"""Drift alerts of the providers' bills: a provider's bill for a UTC day that differs from
RouteLedger's recomputed cost by more than ``bills.drift_alert_share`` of the bill (and by at
least ``bills.drift_alert_min_usd``) is claimed once in ``bill_alerts`` and sent on the
configured channels (webhook and/or e-mail) in one message per run, retried by the next runs
like a budget alert. Days older than :data:`HORIZON` are history (a month of bills imported at
once): shown on the Reconciliation page and in the report, never alerted. A day whose
recomputed cost is unknown (nothing priced) has no drift to alert on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app import bills
from app.reports import alerts, deliver
from app.reports import queries as q
from collectors import pipeline
from collectors.config import Config
from collectors.http import RetryPolicy
from collectors.warehouse import Warehouse

HORIZON = timedelta(days=7)


def _payload(cfg: Config, lines: list[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    title = "RouteLedger: provider bill drift"
    if cfg.get("delivery.webhook_kind") == "json":
        return {"event": "bill_drift", "alerts": [deliver.jsonable(r) for r in rows]}
    return deliver.chat_message(title, lines)


def check(
    cfg: Config,
    now: datetime | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> dict[str, Any]:
    """Claim and send the drift alerts due now: ``{"new", "sent", "failed", "alerts"}``."""
    share = float(cfg.get("bills.drift_alert_share"))
    result: dict[str, Any] = {"new": 0, "sent": 0, "failed": 0, "alerts": []}
    if share <= 0:
        return result
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    pipeline.update_marts(cfg)
    wh = Warehouse.from_config(cfg)
    with wh.connect() as con:
        found = q.bill_drifts(
            con, (at - HORIZON).date(), share, float(cfg.get("bills.drift_alert_min_usd"))
        )
        for row in found:
            q.insert_bill_alert(con, row, share, at)
        result["new"] = len(found)
        due = q.bill_alerts_to_send(con, alerts.MAX_ATTEMPTS)
    if not due:
        return result
    lines = [bills.day_line(r) for r in due]
    result["alerts"] = lines
    more = f" and {len(due) - 1} more" if len(due) > 1 else ""
    subject = f"RouteLedger: {due[0]['provider']} bill drift on {due[0]['day']}{more}"
    text = "RouteLedger: provider bill drift\n\n" + "\n".join(f"- {x}" for x in lines) + "\n"
    status, channels, detail = alerts.deliver_alert(
        cfg,
        "bill drift alert",
        _payload(cfg, lines, due),
        deliver.Message(subject, text),
        transport,
        policy,
    )
    with wh.connect() as con:
        q.finish_bill_alerts(
            con, [(r["day"], r["provider"]) for r in due], status, channels, detail
        )
    result["sent" if status in ("sent", "recorded") else "failed"] = len(due)
    return result
