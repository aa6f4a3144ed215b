"""The scheduler's jobs, each recorded in ``job_runs`` and never running twice at once.

Each job calls what the matching CLI command calls:

==========  ==========================================================================
``ingest``  the configured ``[[sources]]`` (``routeledger ingest`` with no paths), one file at
            a time so a stop request is honoured between files; then the marts are rebuilt
``prices``  :func:`collectors.prices.api.refresh` (``routeledger prices refresh``)
``budget``  :func:`app.reports.alerts.check`: budget thresholds, each alerted once a month
``tuner``   the tuner's proposal (``routeledger tune --out``) kept for review; skipped (and
            logged) when the tuner or its manifest is absent
``report``  :func:`app.reports.weekly` for the last complete week, delivered on the channels it
            has not reached yet (``routeledger report weekly --send`` re-sends on purpose)
==========  ==========================================================================

:func:`run` wraps every job: it takes the job's lock (a thread lock in this process and an
``flock`` on ``<home>/locks/<job>.lock`` across processes, so ``serve`` and a cron
``serve --once`` never overlap either), records a ``running`` row (detail ``pid N``), runs the
job with no connection held between its units of work, and records the outcome (``ok``,
``failed``, ``stopped`` or ``skipped``) with a one-line detail. It never raises: a failing job is
logged and recorded and the scheduler carries on. A ``running`` row whose process is gone (a
``kill -9``) is marked ``interrupted`` by :func:`mark_interrupted`.

Within one process, jobs take turns (:data:`RUN_LOCK`): DuckDB refuses a read-only and a
read-write connection to the same file side by side in one process, and the jobs' library calls
use both. A job waiting for its turn has already passed APScheduler's misfire check, so waiting
never turns into a missed run; a stop request ends the wait.
"""

from __future__ import annotations

import fcntl
import importlib
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collectors import derive
from collectors.config import Config
from collectors.ingest import Ingester, _alive, expand
from collectors.redact import describe, redact
from collectors.warehouse import Warehouse

log = logging.getLogger(__name__)
DETAIL_CHARS = 500


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | failed | stopped | skipped
    detail: str = ""


JobFn = Callable[[Config, threading.Event], Outcome]


def one_line(e: BaseException) -> str:
    """The failure as recorded and logged: secrets redacted, an unexpected error's quoted values
    (possibly log content) elided (:func:`collectors.redact.describe`)."""
    return describe(e, DETAIL_CHARS)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _warehouse(cfg: Config) -> Warehouse:
    return derive.warehouse(cfg)


# -- job_runs -------------------------------------------------------------------------------------


def _start(wh: Warehouse, job: str) -> datetime:
    started = _now()
    with wh.connect() as con:
        con.execute(
            "INSERT INTO job_runs (job, started_at, status, detail) VALUES (?, ?, 'running', ?)",
            [job, started, f"pid {os.getpid()}"],
        )
    return started


def _finish(wh: Warehouse, job: str, started: datetime, outcome: Outcome) -> None:
    with wh.connect() as con:
        con.execute(
            "UPDATE job_runs SET ended_at = ?, status = ?, detail = ? "
            "WHERE job = ? AND started_at = ? AND status = 'running'",
            [_now(), outcome.status, redact(outcome.detail)[:DETAIL_CHARS], job, started],
        )


def record(cfg: Config, job: str, outcome: Outcome) -> None:
    """A run that did not start (skipped, missed) as one finished row."""
    wh = _warehouse(cfg)
    wh.migrate()
    now = _now()
    with wh.connect() as con:
        con.execute(
            "INSERT INTO job_runs VALUES (?, ?, ?, ?, ?)",
            [job, now, now, outcome.status, redact(outcome.detail)[:DETAIL_CHARS]],
        )


def mark_interrupted(cfg: Config) -> int:
    """Mark ``running`` rows of processes that no longer exist as ``interrupted``."""
    wh = _warehouse(cfg)
    wh.migrate()
    n = 0
    with wh.connect() as con:
        rows = con.execute(
            "SELECT job, started_at, detail FROM job_runs WHERE status = 'running'"
        ).fetchall()
        for job, started, detail in rows:
            pid = str(detail or "").removeprefix("pid ")
            if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                continue
            con.execute(
                "UPDATE job_runs SET status = 'interrupted', ended_at = ?, detail = ? "
                "WHERE job = ? AND started_at = ? AND status = 'running'",
                [_now(), f"the process ({detail}) ended during the run", job, started],
            )
            n += 1
    return n


def last_ok(cfg: Config) -> dict[str, datetime]:
    """Start (UTC) of each job's last successful run."""
    wh = _warehouse(cfg)
    wh.migrate()
    with wh.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT job, max(started_at) FROM job_runs WHERE status = 'ok' GROUP BY job"
        ).fetchall()
    return {str(job): started.replace(tzinfo=UTC) for job, started in rows}


# -- no overlap -----------------------------------------------------------------------------------

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()
RUN_LOCK = threading.Lock()  # one job at a time touches the warehouse in this process


@contextmanager
def turn(stop: threading.Event, poll: float = 0.2) -> Iterator[bool]:
    """Wait for this process's warehouse turn; False when a stop came first."""
    while not RUN_LOCK.acquire(timeout=poll):
        if stop.is_set():
            yield False
            return
    try:
        yield True
    finally:
        RUN_LOCK.release()


def _thread_lock(key: str) -> threading.Lock:
    with _GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.Lock())


@contextmanager
def _exclusive(cfg: Config, job: str) -> Iterator[bool]:
    """True while this process holds the job's locks; False when the job is already running."""
    path = cfg.home / "locks" / f"{job}.lock"
    lock = _thread_lock(str(path.resolve()))
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    finally:
        lock.release()


def run(cfg: Config, job: str, fn: JobFn, stop: threading.Event | None = None) -> Outcome:
    """Run one job under its lock, recorded in ``job_runs``; never raises."""
    stop = stop or threading.Event()
    if stop.is_set():
        return Outcome("skipped", "stopping")
    try:
        with _exclusive(cfg, job) as held, turn(stop) as my_turn:
            if not my_turn:
                return Outcome("skipped", "stopping")
            if not held:
                outcome = Outcome("skipped", "the previous run is still going")
                log.warning("job %s: %s", job, outcome.detail)
                record(cfg, job, outcome)
                return outcome
            wh = _warehouse(cfg)
            wh.migrate()
            started = _start(wh, job)
            log.info("job %s started", job)
            try:
                outcome = fn(cfg, stop)
            except Exception as e:  # noqa: BLE001  (the edge: logged, recorded, the scheduler goes on)
                log.error(
                    "job %s failed: %s", job, one_line(e), exc_info=log.isEnabledFor(logging.DEBUG)
                )
                outcome = Outcome("failed", one_line(e))
            _finish(wh, job, started, outcome)
            log.info("job %s %s: %s", job, outcome.status, outcome.detail)
            return outcome
    except Exception as e:  # noqa: BLE001  (the warehouse itself failed: nothing left to record in)
        log.error("job %s could not be recorded: %s", job, one_line(e))
        return Outcome("failed", one_line(e))


# -- the jobs -------------------------------------------------------------------------------------


def source_files(cfg: Config) -> list[tuple[Path, str, str | None]]:
    """(file, format, mapping) of every configured source, as ``routeledger ingest`` expands them."""
    files: list[tuple[Path, str, str | None]] = []
    for s in cfg.sources:
        files += [
            (p, s.format, s.mapping) for p in expand([str(cfg.resolve(s.path))]) if p.is_file()
        ]
    return files


def ingest_job(cfg: Config, stop: threading.Event) -> Outcome:
    files = source_files(cfg)
    if not files:
        return Outcome("skipped", "no [[sources]] configured" if not cfg.sources else "no files")
    done, loaded, quarantined, load_ids, failed = 0, 0, 0, 0, []
    for f in files:
        if stop.is_set():
            break
        summary = Ingester(cfg).run([f])
        done += 1
        loaded += summary.attempts_loaded
        quarantined += summary.quarantined
        load_ids += len(summary.load_ids)
        failed += summary.failed_files
    if load_ids or derive.behind(cfg):  # behind: a run killed before it refreshed the marts
        derive.refresh(cfg)
    detail = (
        f"{done} of {len(files)} files, {loaded:,} attempts loaded, {quarantined:,} quarantined"
    )
    if failed:
        first = failed[0]
        return Outcome(
            "failed", f"{detail}; {len(failed)} failed: {first['file']}: {first['error']}"
        )
    return Outcome("stopped" if done < len(files) else "ok", detail)


def prices_job(cfg: Config, stop: threading.Event) -> Outcome:
    from collectors.prices import api

    summary = api.refresh(cfg)
    bad = [s for s in summary.sources if s.status == "failed"]
    detail = f"{len(summary.sources) - len(bad)} of {len(summary.sources)} sources ok"
    if bad:
        detail += "; failed: " + ", ".join(f"{s.source} ({s.error})" for s in bad)
    return Outcome("failed" if bad and len(bad) == len(summary.sources) else "ok", detail)


def budget_job(cfg: Config, stop: threading.Event) -> Outcome:
    from app.reports import alerts

    res = alerts.check(cfg)
    if not res["budgets"]:
        return Outcome("skipped", "no budget configured")
    detail = f"{res['budgets']} budgets, {res['new']} new alerts, {res['sent']} sent"
    return Outcome("failed" if res["failed"] else "ok", detail + f", {res['failed']} failed")


def tuner_job(cfg: Config, stop: threading.Event) -> Outcome:
    """The tuner's proposal from the latest evidence (``routeledger tune --out``), kept under
    ``<home>/proposals/<local date>/`` for review: proposal.json, manifest.yaml and its diff."""
    if importlib.util.find_spec("app.tuner.proposal") is None:
        log.info("job tuner: the tuner is not installed (app.tuner.proposal); skipped")
        return Outcome("skipped", "the tuner is not installed")
    tuner: Any = importlib.import_module("app.tuner.proposal")
    path = tuner.manifest_path(cfg)
    if not path.is_file():
        return Outcome("skipped", f"no routing manifest at {path} (tuner.manifest)")
    derive.refresh(cfg)
    p = tuner.propose(cfg)
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
    from app.reports import weekly

    res = weekly(cfg, scheduled=True)
    sent = [f"{d['channel']} {d['status']}" for d in res.deliveries]
    detail = f"{res.week.label} saved to {res.folder}" + (f"; {', '.join(sent)}" if sent else "")
    failed = any(d["status"] != "sent" for d in res.deliveries)
    return Outcome("failed" if failed else "ok", detail)


JOBS: dict[str, JobFn] = {
    "ingest": ingest_job,
    "prices": prices_job,
    "budget": budget_job,
    "tuner": tuner_job,
    "report": report_job,
}
