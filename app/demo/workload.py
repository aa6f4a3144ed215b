"""The demo generator: a month of gateway traffic written as real log files.

:func:`generate` spreads the requests over the 30 days and hours of the window
(:mod:`app.demo.spec`: weekly and daily seasonality, growth) and writes, per ISO week:

* ``litellm/slp-YYYY-Www.jsonl``: LiteLLM StandardLoggingPayload lines, one per attempt
  (:mod:`app.demo.gateway`): attempts of one logical request share ``trace_id`` (retries and
  fallbacks down the task's chain from ``manifest.yaml``), failures carry
  ``error_information``;
* ``otel/autocomplete-YYYY-Www.traces.jsonl``: OTLP/JSON, one ``ExportTraceServiceRequest``
  per line (:mod:`app.demo.otel`), from the IDE autocomplete service that calls the
  self-hosted ``acme-coder-7b`` directly and is instrumented with OpenTelemetry.

Deterministic: the same request count, seed and ``now`` give byte-identical files; each day
draws from its own generator (seeded by seed and day), so weeks are written in parallel.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.demo import gateway, otel, spec, traffic
from app.demo.traffic import GenerateResult

DEFAULT_REQUESTS = 200_000
DEFAULT_SEED = 7
PARALLEL_FROM = 20_000  # requests; below this one process is faster than starting workers


@dataclass(frozen=True)
class _Job:
    out: str
    week: str  # ISO week of the files, e.g. 2026-W47
    days: tuple[tuple[int, int], ...]  # (day index, requests)
    seed: int
    now: datetime
    manifest: str = str(spec.MANIFEST)  # the routing table the gateway follows these days
    append: bool = False  # add to the week's files (the gateway kept writing them)


def generate(
    out: Path,
    requests: int = DEFAULT_REQUESTS,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    workers: int | None = None,
    days: range | None = None,
    manifest: Path = spec.MANIFEST,
) -> GenerateResult:
    """Write the month's log files under ``out`` (one file per source and ISO week, the way a
    weekly log rotation leaves them); ``now`` ends the window (default: now).

    ``days`` (indexes into the window) writes only those days, routed by ``manifest``, appended
    to the week's files: the same requests those days have in a whole-month run, so a month
    written in two parts under one manifest is the month written at once."""
    t0 = time.monotonic()
    w = spec.window(now)
    (out / "litellm").mkdir(parents=True, exist_ok=True)
    (out / "otel").mkdir(parents=True, exist_ok=True)
    per_day = spec.split(requests, [sum(row) for row in spec.hour_weights(w)])
    weeks: dict[str, list[tuple[int, int]]] = {}
    for d, n in enumerate(per_day):
        if days is not None and d not in days:
            continue
        year, week, _ = w.days[d].isocalendar()
        weeks.setdefault(f"{year}-W{week:02d}", []).append((d, n))
    jobs = [
        _Job(str(out), wk, tuple(d), seed, w.now, str(manifest), days is not None)
        for wk, d in weeks.items()
    ]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if requests >= PARALLEL_FROM else 1
    if workers > 1:
        jobs.sort(key=lambda j: -sum(n for _, n in j.days))  # largest first: balanced workers
        # fork where there is fork: workers start at once and need no importable __main__
        # (spawn fails from `python -` or a REPL). build() generates before it opens DuckDB.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            parts = list(pool.map(_week, jobs))
    else:
        parts = [_week(j) for j in jobs]
    result = GenerateResult()
    for part in sorted(parts, key=lambda r: r.files):
        result.add(part)
    result.seconds = time.monotonic() - t0
    return result


def _week(job: _Job) -> GenerateResult:
    res = GenerateResult()
    slp: list[str] = []
    spans: list[str] = []
    for day, requests in job.days:
        _day(job, day, requests, slp, spans, res)
    out = Path(job.out)
    for path, lines in (
        (out / "litellm" / f"slp-{job.week}.jsonl", slp),
        (out / "otel" / f"autocomplete-{job.week}.traces.jsonl", spans),
    ):
        text = "".join(lines)
        with open(path, "a" if job.append else "w", encoding="utf-8") as f:
            f.write(text)
        res.bytes += len(text)
        res.files.append(str(path))
    return res


def _day(
    job: _Job, day: int, requests: int, slp: list[str], spans: list[str], res: GenerateResult
) -> None:
    """One day's requests, in start order, appended to the week's lines."""
    ms = traffic.fragments(Path(job.manifest))
    w = spec.window(job.now)
    inc = spec.incidents(w)
    rng = random.Random(job.seed * 1_000_003 + day)
    row = spec.hour_weights(w)[day]
    start = w.day_start(day)
    now = w.now.timestamp()
    span = [3600 * max(0.0, min(1.0, (now - start - h * 3600) / 3600)) for h in range(24)]
    hours = rng.choices(range(24), weights=row, k=requests) if requests else []
    starts = sorted(start + h * 3600 + rng.random() * span[h] for h in hours)
    keys, key_cw = traffic.keys()
    for t in starts:
        res.requests += 1
        key = rng.choices(keys, cum_weights=key_cw)[0]
        if rng.random() < spec.AUTOCOMPLETE_SHARE:
            spans.append(otel.request(rng, ms, inc, key, t, res))
        else:
            task = rng.choices(key.tasks, cum_weights=key.task_weights)[0]
            gateway.request(rng, ms, inc, key, task, t, slp, res)


def fmt_seconds(s: float) -> str:
    return f"{s:.1f}s" if s < 100 else f"{math.floor(s / 60)}m{s % 60:02.0f}s"
