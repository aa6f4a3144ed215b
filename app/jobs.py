"""The app's scheduled jobs, and the whole job table ``routeledger serve`` runs.

=============  =======================================================================
``budget``     :func:`app.reports.alerts.check`: budget thresholds, each alerted once a month
``incidents``  :func:`app.reports.alerts.check_incidents`: each new incident (error spike,
               rate-limit storm, P95 regression, price change, new unpriced model) alerted
               once; skipped while no webhook or e-mail is configured
``tuner``      the tuner's proposal (``routeledger tune --out``) kept for review; skipped (and
               logged) when the routing manifest is absent
``report``     :func:`app.reports.weekly` for the last complete week, delivered on the channels
               it has not reached yet (``routeledger report weekly --send`` re-sends on purpose)
``bills``      the providers' bills fetched with the admin keys that are set
               (``routeledger prices bills``), then :func:`app.reports.bill_alerts.check`; the
               drift alerts are also checked with the incidents (bills imported by hand)
=============  =======================================================================

Each is run by :func:`collectors.jobs.run` (its lock, its ``job_runs`` row) like the collectors'
own ``ingest`` and ``prices``; :data:`JOBS` is the table :mod:`collectors.scheduler` is given.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.reports import alerts, bill_alerts, weekly
from app.tuner import proposal
from collectors import jobs, pipeline
from collectors.bills import api as bills_api
from collectors.config import Config
from collectors.jobs import JobFn, Outcome


def budget_job(cfg: Config, stop: threading.Event) -> Outcome:
    res = alerts.check(cfg)
    if not res["budgets"]:
        return Outcome("skipped", "no budget configured")
    detail = f"{res['budgets']} budgets, {res['new']} new alerts, {res['sent']} sent"
    return Outcome("failed" if res["failed"] else "ok", detail + f", {res['failed']} failed")


def incidents_job(cfg: Config, stop: threading.Event) -> Outcome:
    res = alerts.check_incidents(cfg)
    if not res["channels"]:
        return Outcome("skipped", "no webhook or e-mail configured ([delivery])")
    detail = f"{res['new']} new incidents, {res['sent']} alerts sent, {res['failed']} failed"
    drift = bill_alerts.check(cfg)  # the providers' bills drifting from RouteLedger's cost
    if drift["new"] or drift["sent"] or drift["failed"]:
        detail += (
            f"; bill drift: {drift['new']} new, {drift['sent']} sent, {drift['failed']} failed"
        )
    return Outcome("failed" if res["failed"] or drift["failed"] else "ok", detail)


def bills_job(cfg: Config, stop: threading.Event) -> Outcome:
    """The providers' bills of the last ``bills.fetch_days`` UTC days, fetched with the admin
    keys that are set (``routeledger prices bills``), then the drift alerts."""
    today = datetime.now(UTC).date()
    res = bills_api.fetch(cfg, today - timedelta(days=int(cfg.get("bills.fetch_days"))), today)
    drift = bill_alerts.check(cfg)
    parts = [f"{p['provider']} {p['status']}" + (f" ({p['error']})" if p["error"] else "")
             for p in res["providers"]]  # fmt: skip
    detail = f"{', '.join(parts)}; {res['lines_loaded']} lines, {res['days_replaced']} days "
    detail += f"replaced; bill drift: {drift['new']} new, {drift['sent']} sent"
    failed = any(p["status"] == "failed" for p in res["providers"]) or drift["failed"]
    return Outcome("failed" if failed else "ok", detail)


def tuner_job(cfg: Config, stop: threading.Event) -> Outcome:
    """The tuner's proposal from the latest evidence (``routeledger tune --out``), kept under
    ``<home>/proposals/<local date>/`` for review: proposal.json, manifest.yaml and its diff."""
    path = proposal.manifest_path(cfg)
    if not path.is_file():
        return Outcome("skipped", f"no routing manifest at {path} (tuner.manifest)")
    pipeline.update_marts(cfg)
    p = proposal.propose(cfg)
    doc = p.as_json()
    folder = cfg.home / "proposals" / datetime.now(ZoneInfo(cfg.timezone)).date().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "proposal.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    if not p.changed:
        return Outcome("ok", f"no change proposed; evidence {p.since} .. {p.until}")
    (folder / "manifest.yaml").write_text(p.text, encoding="utf-8")
    (folder / "manifest.diff").write_text(p.diff, encoding="utf-8")
    changed = [t["task"] for t in doc["tasks"] if t.get("status") == "changed"]
    savings = (doc.get("savings") or {}).get("savings_usd")
    shown = f"${savings:,.2f}" if isinstance(savings, int | float) else "unknown"
    return Outcome("ok", f"{len(changed)} tasks changed, savings {shown}; saved to {folder}")


def report_job(cfg: Config, stop: threading.Event) -> Outcome:
    res = weekly(cfg, scheduled=True)
    sent = [f"{d['channel']} {d['status']}" for d in res.deliveries]
    detail = f"{res.week.label} saved to {res.folder}" + (f"; {', '.join(sent)}" if sent else "")
    failed = any(d["status"] != "sent" for d in res.deliveries)
    return Outcome("failed" if failed else "ok", detail)


JOBS: dict[str, JobFn] = {
    **jobs.JOBS,
    "budget": budget_job,
    "incidents": incidents_job,
    "tuner": tuner_job,
    "report": report_job,
    "bills": bills_job,
}
"""Every job ``routeledger serve`` schedules, by name (:func:`collectors.scheduler.default_specs`)."""
