"""Where ingest spends its time: the real ``Ingester`` run in-process, every SQL statement timed.

``python benchmarks/profile_ingest.py FILE [--format litellm] [--batch-mb N] [--grow TAIL]
[--floors]``

Wraps the in-memory DuckDB connection the engine parses on
(``collectors.ingest.engine.mem_connection``) in a proxy that times each ``execute`` by what the statement does (read_json into ``src``,
candidates, the three normalisation tables, dedupe, the warehouse insert, ...), and times the
engine's Python steps (batching, ``run_format``, ``normalize``, ``_commit``, the warehouse
migration and the derived-table refresh after loading), through the same ``ingest()`` the CLI
calls; with each step, the peak resident memory while it ran (sampled every 10 ms). Nothing in
``collectors/`` is changed. ``--grow TAIL`` then appends TAIL to FILE, profiles the incremental
run, and truncates FILE back. ``--floors`` also times, on the same file and a fresh connection,
DuckDB's bare ``read_json`` and ``read_json`` with only the format's column spec.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors import config as rl_config  # noqa: E402
from collectors import logs, pipeline  # noqa: E402
from collectors.ingest import batch, engine, plan  # noqa: E402

STATEMENTS = [  # (label, pattern on the statement), first match wins
    ("sql: read_json -> src", r"TEMP TABLE src\b"),
    ("sql: count src", r"count\(\*\) FROM src"),
    ("sql: fmt_out view", r"VIEW fmt_out"),
    ("sql: src -> cand (format select)", r"TEMP TABLE cand\b"),
    ("sql: norm_typed (cast, validate)", r"TEMP TABLE norm_typed"),
    ("sql: norm_bad", r"TEMP TABLE norm_bad"),
    ("sql: norm_ok (ids, classify, redact)", r"TEMP TABLE norm_ok"),
    ("sql: to_insert (dedupe in batch)", r"TEMP TABLE to_insert"),
    ("sql: bad", r"TEMP TABLE bad\b"),
    ("sql: insert raw_attempts (anti-join)", r"INSERT INTO \w+\.raw_attempts"),
    ("sql: attach / detach", r"^\s*(ATTACH|DETACH)"),
    ("sql: commit", r"^\s*COMMIT"),
    ("sql: macros", r"MACRO"),
]


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.peak_mb: dict[str, float] = defaultdict(float)

    def add(self, label: str, secs: float) -> None:
        self.seconds[label] += secs
        self.calls[label] += 1


_active: list[str] = []  # the steps running now, outermost first


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sample_rss(stop: threading.Event, interval: float = 0.01) -> None:
    """Peak resident memory while each step runs (sampled, so spikes under 10 ms are missed)."""
    while not stop.wait(interval):
        rss = _rss_mb()
        if _current:
            peaks = _current[-1].peak_mb
            for label in list(_active):
                peaks[label] = max(peaks[label], rss)


def _label(sql: str) -> str:
    for label, pattern in STATEMENTS:
        if re.search(pattern, sql, re.IGNORECASE):
            return label
    return "sql: other (" + " ".join(sql.split())[:40] + ")"


class TimedConnection:
    """A DuckDB connection whose ``execute`` is timed by statement kind."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timer: Timer) -> None:
        self._con, self._timer = con, timer

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        label = _label(sql)
        _active.append(label)
        began = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self._timer.add(label, time.perf_counter() - began)
            _active.pop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _timed(timer: Timer, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _active.append(label)
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timer.add(label, time.perf_counter() - began)
            _active.pop()

    return wrapper


def _timed_iter(timer: Timer, label: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = fn(*args, **kwargs)
        while True:
            _active.append(label)
            began = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                timer.add(label, time.perf_counter() - began)
                _active.pop()
            yield item

    return wrapper


def instrument(timer: Timer) -> None:
    """Wrap the engine's steps (module attributes looked up at call time) with timers."""
    make_con = engine.mem_connection
    engine.mem_connection = _timed(
        timer,
        "py: mem_connection (connect, macros)",
        lambda **kw: TimedConnection(make_con(**kw), timer),
    )
    engine.run_format = _timed(timer, "py: run_format (incl. its sql)", engine.run_format)
    batch.normalize = _timed(timer, "py: normalize (incl. its sql)", batch.normalize)
    planner = plan.Planner
    planner.batches = _timed_iter(timer, "py: Planner.batches (read, split)", planner.batches)  # type: ignore[method-assign]
    ing = engine.Ingester
    ing._commit = _timed(timer, "py: _commit (incl. its sql)", ing._commit)  # type: ignore[method-assign]
    ing.run = _timed(timer, "py: Ingester.run (all batches)", ing.run)  # type: ignore[method-assign]
    wh = engine.Warehouse
    wh.migrate = _timed(timer, "py: Warehouse.migrate", wh.migrate)  # type: ignore[method-assign]
    from collectors.warehouse import marts

    marts.refresh = _timed(timer, "py: marts.refresh (after loading)", marts.refresh)


def run_once(home: str, path: Path, fmt: str) -> tuple[dict[str, Any], Timer, float]:
    timer = Timer()
    _current.clear()
    _current.append(timer)
    cfg = rl_config.load(home)
    began = time.perf_counter()
    summary = pipeline.ingest(cfg, [str(path)], fmt)
    return summary.as_json(), timer, time.perf_counter() - began


class _Router(Timer):
    """The timer of the run in progress (wrappers are installed once)."""

    def add(self, label: str, secs: float) -> None:
        _current[-1].add(label, secs)


_current: list[Timer] = []


def floors(path: Path, fmt: str) -> dict[str, float]:
    from collectors.ingest.read_jsonl import columns_literal  # the engine's own column spec

    spec = logs.get(fmt, None)
    out = {}
    for label, sql in (
        ("read_json bare -> table", "SELECT * FROM read_json(?, format='newline_delimited')"),
        (
            "read_json format columns -> table",
            f"SELECT * FROM read_json(?, format='newline_delimited', "
            f"columns={columns_literal(spec.read_columns())})",  # type: ignore[attr-defined]
        ),
    ):
        con = duckdb.connect()
        began = time.perf_counter()
        con.execute(f"CREATE TABLE t AS {sql}", [str(path)])
        out[label] = time.perf_counter() - began
        con.close()
    return out


def report(title: str, summary: dict[str, Any], timer: Timer, total: float) -> None:
    rows = summary["attempts_loaded"]
    print(f"{title}: {rows:,} attempts in {total:.2f} s ({rows / total:,.0f} rows/s)")
    print(f"{'step':<46}{'seconds':>9}{'share':>7}{'calls':>7}{'peak MB':>9}")
    for label, secs in sorted(timer.seconds.items(), key=lambda kv: (kv[0][:3], -kv[1])):
        print(
            f"{label:<46}{secs:>9.2f}{secs / total:>7.0%}{timer.calls[label]:>7}"
            f"{timer.peak_mb.get(label, 0):>9,.0f}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--format", default="litellm")
    ap.add_argument("--batch-mb", type=int, help="ingest.batch_bytes for this run, in MiB")
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="ingest.workers (default 1: statement times then add up to the run's time)",
    )
    ap.add_argument(
        "--grow",
        type=Path,
        metavar="TAIL",
        help="then append TAIL to FILE, profile the incremental run, truncate FILE back",
    )
    ap.add_argument(
        "--floors", action="store_true", help="also time bare and column-spec read_json"
    )
    args = ap.parse_args(argv)
    instrument(_Router())
    stop = threading.Event()
    threading.Thread(target=_sample_rss, args=(stop,), daemon=True).start()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="rl-profile-") as home:
        toml = f"[ingest]\nworkers = {args.workers}\n"
        if args.batch_mb is not None:
            toml += f"batch_bytes = {max(65536, args.batch_mb << 20)}\n"
        Path(home, "routeledger.toml").write_text(toml)
        summary, timer, total = run_once(home, args.file, args.format)
        report(f"ingest of {args.file.name}", summary, timer, total)
        result["full"] = {
            "seconds": total,
            "steps": dict(timer.seconds),
            "peak_mb": dict(timer.peak_mb),
        }
        if args.grow:
            size = args.file.stat().st_size
            try:
                with open(args.file, "ab") as f:
                    f.write(args.grow.read_bytes())
                summary, timer, total = run_once(home, args.file, args.format)
            finally:
                os.truncate(args.file, size)
            report(f"ingest again after appending {args.grow.name}", summary, timer, total)
            result["grown"] = {
                "seconds": total,
                "steps": dict(timer.seconds),
                "peak_mb": dict(timer.peak_mb),
            }
    if args.floors:
        result["floors"] = floors(args.file, args.format)
        for label, secs in result["floors"].items():
            print(f"{label:<46}{secs:>9.2f}")
    print(json.dumps(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
