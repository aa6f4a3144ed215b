"""The scheduler's guarantees with short intervals and stand-in jobs: no overlap, misfires,
failure isolation, due-ness for `serve --once` on a controlled clock, and job_runs bookkeeping."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app import jobs as app_jobs
from app.jobs import JOBS
from collectors import config, jobs, scheduler
from collectors.jobs import Outcome
from collectors.scheduler import JobSpec
from collectors.warehouse import Warehouse

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def cfg(home: Path) -> config.Config:
    with (home / "routeledger.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[calendar]\ntimezone = "Europe/Berlin"\n\n[schedule]\nmisfire_grace_seconds = 30\n'
        )
    return config.load(home)


def job_runs(cfg: config.Config, job: str) -> list[tuple[Any, ...]]:
    # read-write like the jobs' own connections: one process may not mix the two modes
    with Warehouse(cfg.warehouse_path).connect() as con:
        return con.execute(
            "SELECT started_at, ended_at, status, detail FROM job_runs WHERE job = ? "
            "ORDER BY started_at",
            [job],
        ).fetchall()


def run_for(cfg: config.Config, specs: list[JobSpec], seconds: float) -> None:
    stop = threading.Event()
    sched = scheduler.build(cfg, specs, stop)
    sched.start()
    try:
        time.sleep(seconds)
    finally:
        stop.set()
        sched.shutdown(wait=True)


def ok(name: str, calls: Counter[str]) -> jobs.JobFn:
    def fn(cfg: config.Config, stop: threading.Event) -> Outcome:
        calls[name] += 1
        return Outcome("ok", f"{name} done")

    return fn


def test_a_slow_job_never_overlaps_itself(cfg: config.Config) -> None:
    jobs.record(cfg, "warm-up", Outcome("ok"))  # create the warehouse before the clock starts
    lock, active, peak, calls = threading.Lock(), [0], [0], [0]

    def slow(cfg: config.Config, stop: threading.Event) -> Outcome:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            calls[0] += 1
        time.sleep(2.2)
        with lock:
            active[0] -= 1
        return Outcome("ok", "slept")

    run_for(cfg, [JobSpec("slow", IntervalTrigger(seconds=1), slow, first_run=timedelta(0))], 5.0)
    assert peak[0] == 1
    assert 2 <= calls[0] <= 3  # a 1-second interval, a 2.2-second job: never twice at once
    rows = job_runs(cfg, "slow")
    assert [r[2] for r in rows] == ["ok"] * calls[0]
    for before, after in zip(rows, rows[1:], strict=False):
        assert after[0] >= before[1], "a run started before the previous one ended"


def test_missed_runs_within_the_grace_run_once_and_beyond_it_are_recorded(
    cfg: config.Config,
) -> None:
    jobs.record(cfg, "warm-up", Outcome("ok"))
    calls: Counter[str] = Counter()
    now = datetime.now(BERLIN)
    specs = [
        # due 10 s ago and every 2 s since: five missed times, all within the 30 s grace
        JobSpec(
            "late",
            IntervalTrigger(seconds=2, start_date=now - timedelta(seconds=10)),
            ok("late", calls),
            first_run=timedelta(seconds=-10),
        ),
        # due 2 minutes ago: beyond the grace
        JobSpec(
            "too_late",
            IntervalTrigger(hours=1, start_date=now - timedelta(minutes=2)),
            ok("too_late", calls),
            first_run=timedelta(minutes=-2),
        ),
    ]
    run_for(cfg, specs, 1.2)
    assert calls["late"] == 1  # coalesced into one run
    assert calls["too_late"] == 0
    (missed,) = job_runs(cfg, "too_late")
    assert missed[2] == "missed" and "missed by" in missed[3]
    assert [r[2] for r in job_runs(cfg, "late")] == ["ok"]


def test_a_failing_job_is_recorded_and_the_others_keep_running(cfg: config.Config) -> None:
    jobs.record(cfg, "warm-up", Outcome("ok"))
    calls: Counter[str] = Counter()

    def boom(cfg: config.Config, stop: threading.Event) -> Outcome:
        calls["boom"] += 1
        raise ValueError("boom\nwith a second line")

    specs = [
        JobSpec("boom", IntervalTrigger(seconds=1), boom, first_run=timedelta(0)),
        JobSpec("fine", IntervalTrigger(seconds=1), ok("fine", calls), first_run=timedelta(0)),
    ]
    run_for(cfg, specs, 3.3)
    assert calls["boom"] >= 3 and calls["fine"] >= 3  # both kept their schedule
    failed = job_runs(cfg, "boom")
    assert {(r[2], r[3]) for r in failed} == {("failed", "ValueError: boom")}
    assert all(r[1] is not None for r in failed)
    assert {r[2] for r in job_runs(cfg, "fine")} == {"ok"}


def test_due_on_a_controlled_clock() -> None:
    weekly = JobSpec(
        "report", CronTrigger(day_of_week="mon", hour=8, timezone=BERLIN), app_jobs.report_job
    )
    every = JobSpec("ingest", IntervalTrigger(minutes=5), jobs.ingest_job)
    mon_0805 = datetime(2026, 3, 9, 8, 5, tzinfo=BERLIN)
    assert scheduler.due(weekly, None, mon_0805)  # never ran
    assert not scheduler.due(weekly, mon_0805, mon_0805 + timedelta(hours=3))
    assert not scheduler.due(weekly, mon_0805, datetime(2026, 3, 16, 7, 59, tzinfo=BERLIN))
    assert scheduler.due(weekly, mon_0805, datetime(2026, 3, 16, 8, 0, tzinfo=BERLIN))
    assert scheduler.due(weekly, datetime(2026, 3, 9, 7, 0, tzinfo=BERLIN), mon_0805)
    assert scheduler.due(every, mon_0805, mon_0805)  # interval jobs: every time


def test_run_due_runs_what_is_due_once(cfg: config.Config) -> None:
    calls: Counter[str] = Counter()
    specs = [
        JobSpec("every", IntervalTrigger(minutes=5), ok("every", calls)),
        JobSpec("daily", CronTrigger(hour=3, timezone=BERLIN), ok("daily", calls)),
    ]
    stop = threading.Event()
    first = scheduler.run_due(cfg, stop, specs)
    second = scheduler.run_due(cfg, stop, specs)
    assert [n for n, _ in first] == ["every", "daily"]
    assert [n for n, _ in second] == ["every"]
    assert calls == Counter(every=2, daily=1)
    stop.set()
    assert scheduler.run_due(cfg, stop, specs) == []


def test_default_schedule_follows_the_config(home: Path) -> None:
    # no sources, no budget: nothing for ingest and budget to do
    names = [s.name for s in scheduler.default_specs(config.load(home), JOBS)]
    assert names == ["prices", "tuner", "report"]
    with (home / "routeledger.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[schedule]\ningest_minutes = 7\nreport_weekday = "monday"\nreport_at = "00:10"\n'
            'prices_daily_at = "04:30"\n\n[budget.teams]\nsearch = 10\n\n'
            '[[sources]]\npath = "logs/*.jsonl"\n'
        )
    cfg = config.load(home)
    specs = {s.name: s for s in scheduler.default_specs(cfg, JOBS)}
    assert list(specs) == [
        "ingest",
        "prices",
        "budget",
        "tuner",
        "report",
    ]  # no channel: no incidents
    assert specs["ingest"].trigger.interval == timedelta(minutes=7)
    assert specs["ingest"].first_run == timedelta(0)
    after = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
    assert specs["report"].trigger.get_next_fire_time(None, after) == datetime(
        2026, 3, 9, 0, 10, tzinfo=UTC
    )
    # the tuner runs half an hour before the report: here on the Sunday before
    assert specs["tuner"].trigger.get_next_fire_time(None, after) == datetime(
        2026, 3, 8, 23, 40, tzinfo=UTC
    )
    assert specs["prices"].trigger.get_next_fire_time(None, after) == datetime(
        2026, 3, 5, 4, 30, tzinfo=UTC
    )


def test_a_job_running_in_another_process_is_not_started_again(cfg: config.Config) -> None:
    calls: Counter[str] = Counter()
    lock_file = cfg.home / "locks" / "ingest.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as held:  # what another `serve --once` holds while it runs
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        outcome = jobs.run(cfg, "ingest", ok("ingest", calls))
    assert outcome == Outcome("skipped", "the previous run is still going")
    assert calls["ingest"] == 0
    assert [r[2] for r in job_runs(cfg, "ingest")] == ["skipped"]
    assert jobs.run(cfg, "ingest", ok("ingest", calls)).status == "ok"


def test_a_run_whose_process_died_is_marked_interrupted(cfg: config.Config) -> None:
    jobs.record(cfg, "warm-up", Outcome("ok"))
    dead = 2**22 + 12345  # above the default pid_max of 4194304: no such process
    with Warehouse(cfg.warehouse_path).connect() as con:
        con.execute(
            "INSERT INTO job_runs VALUES ('ingest', now()::TIMESTAMP, NULL, 'running', ?), "
            "('prices', now()::TIMESTAMP, NULL, 'running', ?)",
            [f"pid {dead}", f"pid {os.getppid()}"],
        )
    assert jobs.mark_interrupted(cfg) == 1
    assert [r[2] for r in job_runs(cfg, "ingest")] == ["interrupted"]
    assert [r[2] for r in job_runs(cfg, "prices")] == ["running"]  # its process is alive


def test_the_schedule_runs_only_the_jobs_of_the_table_it_is_given(home: Path) -> None:
    """collectors schedules the table it is handed: on its own (no app) only its own jobs."""
    cfg = config.load(home)
    assert [s.name for s in scheduler.default_specs(cfg, jobs.JOBS)] == ["prices"]
    assert {s.name: s.fn for s in scheduler.default_specs(cfg, JOBS)}["report"] is (
        app_jobs.report_job
    )
