"""APScheduler wiring only: which job runs when (``routeledger serve``), and ``serve --once``.

The jobs come in as a table, name -> function (:data:`app.jobs.JOBS` for ``routeledger
serve``); their recording in ``job_runs`` and their locks are :func:`collectors.jobs.run`. They
call the same functions the CLI commands call. Times follow
``calendar.timezone``:

* ``ingest``, ``budget`` and ``incidents`` every ``schedule.ingest_minutes`` (ingest at start,
  the budget check a minute later, the incident alerts two, then on the interval), each only when
  it has something to do (``[[sources]]`` or the OTLP/HTTP receiver, a budget, a delivery
  channel);
* ``prices`` daily at ``schedule.prices_daily_at``, and ``bills`` then too when a provider's
  admin key is set (``bills.openai_key_env``, ``bills.anthropic_key_env``);
* ``tuner`` weekly, half an hour before the report; ``report`` on ``schedule.report_weekday`` at
  ``schedule.report_at`` (default Monday 08:00), for the calendar week before.

Every job has ``max_instances=1`` (never overlaps itself), ``coalesce=True`` (runs missed while
the process was busy or asleep collapse into one) and ``misfire_grace_time`` =
``schedule.misfire_grace_seconds`` (a run later than that is skipped and recorded as ``missed``).
Jobs start in a thread pool (one thread per job, so a busy job never makes another one miss its
time) and then take turns on the warehouse (:func:`collectors.jobs.turn`), each with its own
short connections.

:func:`serve` blocks until the stop event is set (the CLI sets it on SIGTERM and SIGINT), then
shuts the scheduler down waiting for running jobs; ingest honours the event between files.
:func:`run_due` is ``serve --once``: each job whose latest scheduled time has passed since its
last successful run (interval jobs: always) runs once, in order, and it returns.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from collectors import jobs
from collectors.config import WEEKDAYS, Config

log = logging.getLogger(__name__)
TUNER_LEAD = timedelta(minutes=30)  # the tuner's proposal is made this long before the report


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: BaseTrigger
    fn: jobs.JobFn
    first_run: timedelta | None = None  # from start; None: when the trigger says


def _hhmm(text: str) -> tuple[int, int]:
    h, _, m = text.partition(":")
    return int(h), int(m)


def default_specs(cfg: Config, table: Mapping[str, jobs.JobFn]) -> list[JobSpec]:
    """When each job of ``table`` runs; a job the table lacks, or with nothing to do, is not
    scheduled."""
    tz = ZoneInfo(cfg.timezone)
    minutes = float(cfg.get("schedule.ingest_minutes"))
    p_hour, p_min = _hhmm(str(cfg.get("schedule.prices_daily_at")))
    day = WEEKDAYS.index(str(cfg.get("schedule.report_weekday")).lower())
    r_hour, r_min = _hhmm(str(cfg.get("schedule.report_at")))
    # the tuner's slot, TUNER_LEAD before the report's (possibly the day before)
    lead = timedelta(days=day, hours=r_hour, minutes=r_min) - TUNER_LEAD
    t_day, rest = divmod(int(lead.total_seconds()) // 60 % (7 * 1440), 1440)

    def weekly(d: int, hour: int, minute: int) -> CronTrigger:
        return CronTrigger(day_of_week=WEEKDAYS[d][:3], hour=hour, minute=minute, timezone=tz)

    when: list[tuple[str, BaseTrigger, timedelta | None]] = [
        ("ingest", IntervalTrigger(minutes=minutes, timezone=tz), timedelta(0)),
        ("prices", CronTrigger(hour=p_hour, minute=p_min, timezone=tz), None),
        ("budget", IntervalTrigger(minutes=minutes, timezone=tz), timedelta(minutes=1)),
        ("incidents", IntervalTrigger(minutes=minutes, timezone=tz), timedelta(minutes=2)),
        ("tuner", weekly(t_day, rest // 60, rest % 60), None),
        ("report", weekly(day, r_hour, r_min), None),
        ("bills", CronTrigger(hour=p_hour, minute=p_min, timezone=tz), None),
    ]
    unused = {
        "ingest": not cfg.sources and not cfg.get("receiver.otlp_http"),
        "budget": not budgets_configured(cfg),
        "incidents": not delivery_configured(cfg),
        "bills": not bill_keys_set(cfg),
    }
    for name in (n for n, off in unused.items() if off and n in table):
        log.info("job %s is not scheduled: %s", name, UNUSED[name])
    return [
        JobSpec(name, trigger, table[name], first)
        for name, trigger, first in when
        if name in table and not unused.get(name)
    ]


UNUSED = {
    "ingest": "no [[sources]] nor [receiver] otlp_http in routeledger.toml",
    "budget": "no budget.monthly_usd, [budget.teams] or [budget.tasks]",
    "incidents": "no delivery.webhook_url, nor delivery.smtp.host with delivery.recipients",
    "bills": "no admin key in the variables bills.openai_key_env, bills.anthropic_key_env name",
}


def bill_keys_set(cfg: Config) -> bool:
    """Whether a provider's admin key is in the environment (the daily fetch of the bills)."""
    names = (cfg.get("bills.openai_key_env"), cfg.get("bills.anthropic_key_env"))
    return any(os.environ.get(str(n), "").strip() for n in names)


def delivery_configured(cfg: Config) -> bool:
    """Whether incident alerts have a channel: a chat webhook, or SMTP with recipients."""
    return bool(cfg.get("delivery.webhook_url")) or bool(
        cfg.get("delivery.smtp.host") and cfg.get("delivery.recipients")
    )


def budgets_configured(cfg: Config) -> bool:
    return bool(
        cfg.get("budget.monthly_usd")
        or any(cfg.get("budget.teams").values())
        or any(cfg.get("budget.tasks").values())
    )


def build(
    cfg: Config,
    specs: list[JobSpec],
    stop: threading.Event,
    scheduler_cls: type[BaseScheduler] = BackgroundScheduler,
) -> BaseScheduler:
    """A scheduler (not started) running each spec through :func:`collectors.jobs.run`."""
    tz = ZoneInfo(cfg.timezone)
    sched = scheduler_cls(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(max_workers=max(1, len(specs)))},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(cfg.get("schedule.misfire_grace_seconds")),
        },
    )
    now = datetime.now(tz)
    for spec in specs:
        extra: dict[str, Any] = {}
        if spec.first_run is not None:
            extra["next_run_time"] = now + spec.first_run
        sched.add_job(
            jobs.run,
            spec.trigger,
            args=[cfg, spec.name, spec.fn, stop],
            id=spec.name,
            name=spec.name,
            **extra,
        )

    def missed(event: JobExecutionEvent) -> None:
        late = datetime.now(UTC) - event.scheduled_run_time
        detail = f"run due at {event.scheduled_run_time:%Y-%m-%d %H:%M:%S %Z} missed by {late}"
        log.warning("job %s: %s (misfire grace exceeded)", event.job_id, detail)
        with jobs.turn(stop) as my_turn:
            if my_turn:
                jobs.record(cfg, event.job_id, jobs.Outcome("missed", detail))

    sched.add_listener(missed, EVENT_JOB_MISSED)
    return sched


def serve(cfg: Config, stop: threading.Event, specs: list[JobSpec]) -> None:
    """Run the scheduler until ``stop`` is set; then wait for running jobs and return."""
    jobs.mark_interrupted(cfg)
    sched = build(cfg, specs, stop)
    sched.start()
    try:
        for job in sched.get_jobs():
            log.info("job %s: next run %s", job.id, job.next_run_time)
        while not stop.wait(1.0):
            pass
        log.info("stopping: waiting for running jobs to finish")
    finally:
        sched.shutdown(wait=True)
    log.info("stopped")


def due(spec: JobSpec, last_ok: datetime | None, now: datetime) -> bool:
    """Interval jobs always; others when a scheduled time passed since their last success."""
    if isinstance(spec.trigger, IntervalTrigger) or last_ok is None:
        return True
    nxt = spec.trigger.get_next_fire_time(None, last_ok)
    return nxt is not None and nxt <= now


def run_due(
    cfg: Config,
    stop: threading.Event,
    specs: list[JobSpec],
    now: datetime | None = None,
) -> list[tuple[str, jobs.Outcome]]:
    """``serve --once``: each due job once, in order; (job, outcome) of those that were due."""
    jobs.mark_interrupted(cfg)
    now = now or datetime.now(UTC)
    last = jobs.last_ok(cfg)
    out = []
    for spec in specs:
        if stop.is_set():
            break
        if due(spec, last.get(spec.name), now):
            out.append((spec.name, jobs.run(cfg, spec.name, spec.fn, stop)))
    return out
