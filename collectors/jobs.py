"""Running the scheduler's jobs, each recorded in ``job_runs`` and never running twice at once;
and the collectors' own jobs.

Each job calls what the matching CLI command calls:

==========  ==========================================================================
``ingest``  the configured ``[[sources]]`` (``routeledger ingest`` with no paths), one file at
            a time so a stop request is honoured between files; then the marts are brought
            up to date (:func:`collectors.pipeline.catch_up`)
``prices``  :func:`collectors.pipeline.refresh_prices` (``routeledger prices refresh``)
==========  ==========================================================================

The budget, tuner and report jobs are the app's (:mod:`app.jobs`, which holds the whole job
table ``routeledger serve`` schedules): collectors never import the app.

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
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from collectors import pipeline
from collectors.config import Config
from collectors.ingest import Ingester, files_to_ingest
from collectors.redact import describe, redact
from collectors.remote import receiver_spool, sources
from collectors.warehouse import Warehouse, ledger

log = logging.getLogger(__name__)
DETAIL_CHARS = ledger.DETAIL_CHARS


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | failed | stopped | skipped
    detail: str = ""


JobFn = Callable[[Config, threading.Event], Outcome]


def one_line(e: BaseException) -> str:
    """The failure as recorded and logged: secrets redacted, an unexpected error's quoted values
    (possibly log content) elided (:func:`collectors.redact.describe`)."""
    return describe(e, DETAIL_CHARS)


# -- job_runs -------------------------------------------------------------------------------------


def _ledger(cfg: Config) -> Warehouse:
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    return wh


def record(cfg: Config, job: str, outcome: Outcome) -> None:
    """A run that did not start (skipped, missed) as one finished row."""
    with _ledger(cfg).connect() as con:
        ledger.record_job(con, job, outcome.status, redact(outcome.detail))


def mark_interrupted(cfg: Config) -> int:
    """Mark ``running`` rows of processes that no longer exist as ``interrupted``."""
    with _ledger(cfg).connect() as con:
        return ledger.mark_interrupted_jobs(con)


def last_ok(cfg: Config) -> dict[str, datetime]:
    """Start (UTC) of each job's last successful run."""
    with _ledger(cfg).connect(read_only=True, fresh=True) as con:
        return ledger.last_ok_jobs(con)


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
            wh = _ledger(cfg)
            with wh.connect() as con:
                started = ledger.start_job(con, job)
            log.info("job %s started", job)
            try:
                outcome = fn(cfg, stop)
            except Exception as e:  # noqa: BLE001  (the edge: logged, recorded, the scheduler goes on)
                log.error(
                    "job %s failed: %s", job, one_line(e), exc_info=log.isEnabledFor(logging.DEBUG)
                )
                outcome = Outcome("failed", one_line(e))
            with wh.connect() as con:
                ledger.finish_job(con, job, started, outcome.status, redact(outcome.detail))
            log.info("job %s %s: %s", job, outcome.status, outcome.detail)
            return outcome
    except Exception as e:  # noqa: BLE001  (the warehouse itself failed: nothing left to record in)
        log.error("job %s could not be recorded: %s", job, one_line(e))
        return Outcome("failed", one_line(e))


# -- the jobs -------------------------------------------------------------------------------------


def ingest_job(cfg: Config, stop: threading.Event) -> Outcome:
    remote = sources.fetch_all(cfg, stop)
    files = files_to_ingest(cfg)
    if not files and any(r.status == "failed" for r in remote):
        return Outcome("failed", "; ".join(f"{r.source}: {r.error}" for r in remote if r.error))
    receiving = bool(cfg.get("receiver.otlp_http"))
    if not files:
        receiver_spool.prune(cfg)  # records that nothing from the receiver is pending
        return Outcome(
            "skipped",
            "no [[sources]] configured" if not cfg.sources and not receiving else "no files",
        )
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
    pipeline.catch_up(cfg, load_ids > 0)
    receiver_spool.prune(cfg)  # the receiver's segments read to their end are deleted
    sources.prune(cfg)  # and the remote sources' spool files read a day ago
    detail = (
        f"{done} of {len(files)} files, {loaded:,} attempts loaded, {quarantined:,} quarantined"
    )
    bad = [r for r in remote if r.status == "failed"]
    if bad:
        detail += f"; source {bad[0].source} failed: {bad[0].error}"
    if failed:
        first = failed[0]
        return Outcome(
            "failed", f"{detail}; {len(failed)} failed: {first['file']}: {first['error']}"
        )
    return Outcome("stopped" if done < len(files) else "ok", detail)


def prices_job(cfg: Config, stop: threading.Event) -> Outcome:
    summary = pipeline.refresh_prices(cfg)
    bad = [s for s in summary.sources if s.status == "failed"]
    detail = f"{len(summary.sources) - len(bad)} of {len(summary.sources)} sources ok"
    if bad:
        detail += "; failed: " + ", ".join(f"{s.source} ({s.error})" for s in bad)
    return Outcome("failed" if bad and len(bad) == len(summary.sources) else "ok", detail)


JOBS: dict[str, JobFn] = {"ingest": ingest_job, "prices": prices_job}
"""The collectors' jobs; :data:`app.jobs.JOBS` adds the app's."""
