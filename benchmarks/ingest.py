"""Ingest speed: ``routeledger ingest`` against DuckDB's bare ``read_json`` and a pandas loader.

``python benchmarks/ingest.py [--rows 1000000] [--keep] [--data-dir benchmarks/data]``

1. Generates ``rows`` LiteLLM StandardLoggingPayload lines plus 1% more to append later
   (:mod:`generate`), cached under the data dir by rows, seed and payload size.
2. Measures, each in a fresh process (wall time from here, peak RSS from ``/usr/bin/time -v``,
   else ``wait4``), after reading the file once so every run starts with it in the page cache:

   a. ``routeledger ingest FILE --format litellm --json`` into a fresh home;
   b. DuckDB's ``CREATE TABLE t AS SELECT * FROM read_json(FILE)`` into a fresh DuckDB file;
   c. a pandas loader (:mod:`loaders`), on the first ``--pandas-rows`` lines when that is fewer
      than ``rows``, extrapolated linearly to ``rows`` (and said so);
   d. the same file grown by 1%, ingested again into the home of (a);
   e. the same file again with nothing new (the fixed cost of a run).

3. Checks what each loaded (``attempts_loaded`` must equal the lines written, nothing
   quarantined; the incremental run must read only the appended bytes) and fails loudly if not.
4. Prints a table and writes ``benchmarks/results/ingest-<rows>.json``.

Targets (docs: DESIGN.md "Targets"): ingest rows/s at least 0.7x bare read_json and 8x pandas;
re-reading a grown log costs only the new rows; peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIME = Path("/usr/bin/time")
TAIL_FRACTION = 0.01
TARGETS = {"ingest_vs_read_json": 0.7, "ingest_vs_pandas": 8.0, "ingest_peak_mb": 2048.0}


class BenchmarkError(Exception):
    """A measurement failed or loaded the wrong number of rows."""


# -- data -----------------------------------------------------------------------------------
def dataset(data_dir: Path, rows: int, seed: int, model_map: str) -> dict[str, Any]:
    """The cached file of ``rows`` lines and its 1% tail; generated when missing or stale."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stem = f"litellm-slp-{rows}-seed{seed}-{model_map}-v{generate.VERSION}"
    main, tail, meta_path = (data_dir / f"{stem}{s}" for s in (".jsonl", ".tail.jsonl", ".json"))
    tail_rows = max(1, round(rows * TAIL_FRACTION))
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        size = main.stat().st_size if main.exists() else -1
        if size > meta["bytes"]:  # a run killed while the tail was appended
            os.truncate(main, meta["bytes"])
            size = meta["bytes"]
        if size == meta["bytes"] and tail.exists() and tail.stat().st_size == meta["tail_bytes"]:
            return {**meta, "path": str(main), "tail_path": str(tail), "cached": True}
        meta_path.unlink()
    print(f"generating {rows:,} + {tail_rows:,} rows into {main} ...", file=sys.stderr)
    began = time.perf_counter()
    with open(main, "wb", buffering=1 << 20) as f, open(tail, "wb", buffering=1 << 20) as g:
        generate.generate(f, rows, seed, tail=g, tail_rows=tail_rows, model_map=model_map)
    secs = time.perf_counter() - began
    meta = {
        "rows": rows,
        "tail_rows": tail_rows,
        "seed": seed,
        "model_map": model_map,
        "generator_version": generate.VERSION,
        "bytes": main.stat().st_size,
        "tail_bytes": tail.stat().st_size,
        "generate_seconds": round(secs, 2),
        "generate_rows_per_s": round((rows + tail_rows) / secs),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return {**meta, "path": str(main), "tail_path": str(tail), "cached": False}


# -- measuring --------------------------------------------------------------------------------
def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return [round(x, 2) for x in os.getloadavg()]


def measure(label: str, cmd: list[str], work: Path) -> dict[str, Any]:
    """Run ``cmd`` in a fresh process in ``work``, with the code snapshot in ``work/code`` first
    on the path: its wall time, peak RSS and stdout (one JSON object)."""
    log = work / f"{label}.stderr"
    timing = work / f"{label}.time"
    full = [str(TIME), "-v", "-o", str(timing), *cmd] if TIME.exists() else cmd
    before = loadavg()
    began = time.perf_counter()
    with open(log, "wb") as err:
        env = {**os.environ, "PYTHONPATH": str(work / "code")}
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=err, cwd=work, env=env)
        assert proc.stdout is not None
        out = proc.stdout.read()
        if TIME.exists():
            code = proc.wait()
            peak_kb = _time_field(timing.read_text(), "Maximum resident set size (kbytes)")
        else:
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            peak_kb = usage.ru_maxrss  # KiB on Linux
    secs = time.perf_counter() - began
    if code != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchmarkError(f"{label}: exit {code}: {' '.join(cmd)}\n{tail}")
    try:
        result = json.loads(out)
    except ValueError as e:
        raise BenchmarkError(f"{label}: stdout is not one JSON object: {out[:300]!r}") from e
    return {
        "seconds": round(secs, 3),
        "peak_mb": round(peak_kb / 1024, 1),
        "load_before": before,
        "load_after": loadavg(),
        "output": result,
    }


def _time_field(text: str, name: str) -> int:
    m = re.search(rf"{re.escape(name)}:\s*(\d+)", text)
    if not m:
        raise BenchmarkError(f"/usr/bin/time reported no {name!r}")
    return int(m.group(1))


def warm(path: Path) -> float:
    """Read the file once so that every measurement starts from the page cache."""
    began = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass
    return time.perf_counter() - began


CODE = ("app", "collectors", "sql")


def snapshot_code(dest: Path) -> str:
    """Copy the code under test (``app``, ``collectors``, ``sql``) so that edits made to the
    working tree while a long run is going do not change what is measured; its digest."""
    digest = hashlib.sha256()
    for pkg in CODE:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for f in sorted(q for pkg in CODE for q in (dest / pkg).rglob("*") if q.is_file()):
        digest.update(f.relative_to(dest).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def ingest_cmd(home: Path, path: str, *extra: str) -> list[str]:
    """``routeledger ingest`` from the snapshot: ``python -m app.cli`` with the snapshot first on
    the path (run with the run directory as working directory, so the checkout is not)."""
    return [
        sys.executable,
        "-m",
        "app.cli",
        "--home",
        str(home),
        "ingest",
        path,
        "--format",
        "litellm",
        "--json",
        *extra,
    ]


def check_ingest(label: str, m: dict[str, Any], expected: int) -> None:
    out = m["output"]
    if out.get("attempts_loaded") != expected or out.get("quarantined") or out.get("failed_files"):
        raise BenchmarkError(
            f"{label}: expected {expected:,} attempts loaded and none quarantined or failed; "
            f"got {json.dumps(out)}"
        )


def prepare(home: Path, backend: str) -> Path:
    """A fresh home on ``backend`` (ClickHouse: chdb in ``home/clickhouse``)."""
    home.mkdir(parents=True, exist_ok=True)
    if backend == "clickhouse":
        (home / "routeledger.toml").write_text(
            '[warehouse]\nbackend = "clickhouse"\n', encoding="utf-8"
        )
    return home


def warehouse_mb(home: Path) -> float:
    """The warehouse's size on disk: the DuckDB file, or chdb's data path."""
    if (home / "warehouse.duckdb").exists():
        return round((home / "warehouse.duckdb").stat().st_size / 2**20, 1)
    files = (home / "clickhouse").rglob("*")
    return round(sum(f.stat().st_size for f in files if f.is_file()) / 2**20, 1)


_CH_LAST_LOAD = (
    "import json, sys, clickhouse_connect; "
    "c = clickhouse_connect.get_client(dsn='chdb://' + sys.argv[1], database='routeledger'); "
    "r = c.query('SELECT rows_loaded, bytes_read, status FROM loads FINAL "
    "ORDER BY started_at DESC LIMIT 1').result_rows; "
    "print(json.dumps([list(map(str, x)) for x in r]))"
)


def last_load(home: Path) -> dict[str, Any]:
    if not (home / "warehouse.duckdb").exists():  # chdb: read in a process of its own
        out = subprocess.run([sys.executable, "-c", _CH_LAST_LOAD, str(home / "clickhouse")],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        rows = json.loads(out)
        if not rows:
            raise BenchmarkError(f"{home}: no load recorded")
        return {"rows_loaded": int(rows[0][0]), "bytes_read": int(rows[0][1]),
                "status": rows[0][2]}  # fmt: skip
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(
            "SELECT rows_loaded, bytes_read, status FROM loads ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise BenchmarkError(f"{home}: no load recorded")
    return {"rows_loaded": row[0], "bytes_read": row[1], "status": row[2]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = dataset(args.data_dir, args.rows, args.seed, args.model_map)
    path, rows, tail_rows = Path(data["path"]), data["rows"], data["tail_rows"]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    work = args.data_dir / f"run-{rows}-{stamp}"
    work.mkdir(parents=True)
    results: dict[str, Any] = {}
    try:
        code_sha = snapshot_code(work / "code")
        warm_s = warm(path)
        print(
            f"file {path.name}: {data['bytes'] / 1e6:,.0f} MB, read in {warm_s:.1f} s",
            file=sys.stderr,
        )

        def step(key: str, title: str, cmd: list[str]) -> dict[str, Any]:
            print(f"  {title} ...", file=sys.stderr, flush=True)
            m = {"title": title, **measure(key, cmd, work)}
            print(
                f"    {m['seconds']:.1f} s, {m['peak_mb']:,.0f} MB peak, load {m['load_before'][0]}",
                file=sys.stderr,
            )
            results[key] = m
            return m

        home = prepare(work / "home", args.backend)
        later: tuple[str, ...] = ()  # what the incremental runs pass: --no-refresh without marts
        if args.no_marts:
            later = ("--no-refresh",)
        else:
            m = step("routeledger_ingest", "routeledger ingest", ingest_cmd(home, str(path)))
            check_ingest("routeledger ingest", m, rows)
            m["rows"] = rows
            m["warehouse_mb"] = warehouse_mb(home)

        # the same load with the marts left for later, then the marts caught up on their own:
        # the loader alone is what compares with read_json loading the file into a table
        load_home = home if args.no_marts else prepare(work / "home-load", args.backend)
        m = step(
            "routeledger_load",
            "routeledger ingest --no-refresh (load only)",
            ingest_cmd(load_home, str(path), "--no-refresh"),
        )
        check_ingest("routeledger ingest --no-refresh", m, rows)
        m["rows"] = rows
        m["warehouse_mb"] = warehouse_mb(load_home)
        if not args.no_marts:
            m = step(
                "marts_refresh",
                "the marts catch up (next ingest, nothing new)",
                ingest_cmd(load_home, str(path)),
            )
            check_ingest("catch-up ingest", m, 0)
            m["rows"] = rows  # the attempts the marts were built from
            shutil.rmtree(load_home, ignore_errors=True)

        m = step(
            "duckdb_read_json",
            "duckdb read_json (bare)",
            [
                sys.executable,
                str(HERE / "loaders.py"),
                "read_json",
                str(path),
                str(work / "read_json.duckdb"),
            ],
        )
        if m["output"]["rows"] != rows:
            raise BenchmarkError(f"read_json loaded {m['output']['rows']:,} rows, not {rows:,}")
        m["rows"] = rows

        sample = min(rows, args.pandas_rows) if args.pandas_rows else rows
        m = step(
            "pandas",
            f"pandas loader ({sample:,} rows)",
            [
                sys.executable,
                str(HERE / "loaders.py"),
                "pandas",
                str(path),
                str(work / "pandas.duckdb"),
                "--nrows",
                str(sample),
            ],
        )
        if m["output"]["rows"] != sample:
            raise BenchmarkError(f"pandas loaded {m['output']['rows']:,} rows, not {sample:,}")
        m["rows"] = sample
        m["extrapolated"] = sample < rows
        m["seconds_for_all_rows"] = round(m["seconds"] * rows / sample, 1)

        with open(path, "ab") as f, open(data["tail_path"], "rb") as t:
            shutil.copyfileobj(t, f, 16 << 20)
        try:
            m = step(
                "incremental",
                f"ingest again, file grown by {tail_rows:,} rows",
                ingest_cmd(home, str(path), *later),
            )
            check_ingest("incremental ingest", m, tail_rows)
            m["rows"] = tail_rows
            m["load"] = last_load(home)
            if m["load"]["bytes_read"] != data["tail_bytes"]:
                raise BenchmarkError(
                    f"incremental ingest read {m['load']['bytes_read']:,} bytes; "
                    f"only the {data['tail_bytes']:,} appended bytes should be read"
                )
            m = step("unchanged", "ingest again, nothing new", ingest_cmd(home, str(path), *later))
            check_ingest("unchanged ingest", m, 0)
            m["rows"] = 0
        finally:
            os.truncate(path, data["bytes"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "data": {**data, "warm_read_seconds": round(warm_s, 2)},
        "work_dir": str(work),
        "kept": args.keep,
        "code_sha256": code_sha,
        "measurements": results,
    }


# -- reporting --------------------------------------------------------------------------------
def ratios(ms: dict[str, Any]) -> dict[str, Any]:
    """The targets' ratios; without the marts (``--no-marts``) the load's stand for the ingest's
    (the incremental runs then load only too)."""
    rj, pd_, inc, ld = (
        ms[k] for k in ("duckdb_read_json", "pandas", "incremental", "routeledger_load")
    )
    rl = ms.get("routeledger_ingest", ld)
    share = inc["rows"] / rl["rows"]
    out = {
        "load_vs_read_json": (
            ld["rows_per_s"] / rj["rows_per_s"],
            TARGETS["ingest_vs_read_json"],
            ">=",
        ),
        "load_vs_pandas": (ld["rows_per_s"] / pd_["rows_per_s"], TARGETS["ingest_vs_pandas"], ">="),
    }
    if "routeledger_ingest" in ms:
        out |= {
            "ingest_vs_read_json": (
                rl["rows_per_s"] / rj["rows_per_s"],
                TARGETS["ingest_vs_read_json"],
                ">=",
            ),
            "ingest_vs_pandas": (
                rl["rows_per_s"] / pd_["rows_per_s"],
                TARGETS["ingest_vs_pandas"],
                ">=",
            ),
        }
    out |= {
        # proportional to the new rows: allow twice their share for the fixed cost of a run
        "incremental_vs_full": (inc["seconds"] / rl["seconds"], 2 * share, "<="),
        "ingest_peak_mb": (max(rl["peak_mb"], ld["peak_mb"]), TARGETS["ingest_peak_mb"], "<="),
    }
    return {
        k: {"value": round(v, 4), "target": f"{op} {t:g}", "met": v >= t if op == ">=" else v <= t}
        for k, (v, t, op) in out.items()
    }


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }
    try:
        import pandas

        info["pandas"] = pandas.__version__
    except ImportError:
        info["pandas"] = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        m = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        info["cpu"] = m.group(1).strip() if m else None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        m = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        info["mem_gib"] = round(int(m.group(1)) / 2**20, 1) if m else None
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    return info


def table(report: dict[str, Any]) -> str:
    ms, rt = report["measurements"], report["ratios"]
    lines = [
        f"{'measurement':<44}{'rows':>11}{'seconds':>10}{'rows/s':>10}{'peak MB':>9}{'load':>6}"
    ]
    for m in ms.values():
        title = m["title"] + (" [sample]" if m.get("extrapolated") else "")
        rps = f"{m['rows_per_s']:,.0f}" if m["rows"] else "-"
        lines.append(
            f"{title:<44}{m['rows']:>11,}{m['seconds']:>10.2f}{rps:>10}"
            f"{m['peak_mb']:>9,.0f}{m['load_before'][0]:>6.2f}"
        )
    p = ms["pandas"]
    if p.get("extrapolated"):
        lines.append(
            f"{'  pandas extrapolated linearly to all rows':<44}{report['rows']:>11,}"
            f"{p['seconds_for_all_rows']:>10.1f}"
        )
    lines.append("")
    lines.append(f"{'ratio':<44}{'value':>11}{'target':>12}{'met':>6}")
    for k, r in rt.items():
        lines.append(f"{k:<44}{r['value']:>11.3f}{r['target']:>12}{'yes' if r['met'] else 'NO':>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="attempts in the file (default 1M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", type=Path, default=HERE / "data", help="generated files and runs")
    ap.add_argument("--results-dir", type=Path, default=HERE / "results")
    ap.add_argument(
        "--keep", action="store_true", help="keep the homes and DuckDB files of the run"
    )
    ap.add_argument(
        "--pandas-rows",
        type=int,
        default=100_000,
        help="lines the pandas loader reads, extrapolated to --rows (0: all)",
    )
    ap.add_argument(
        "--backend",
        choices=["duckdb", "clickhouse"],
        default="duckdb",
        help="the homes' warehouse: duckdb, or clickhouse (chdb under each home; needs "
        "routeledger[clickhouse])",
    )
    ap.add_argument(
        "--no-marts",
        action="store_true",
        help="measure the load only, and grow the file with --no-refresh: where the marts' full "
        "rebuild (and its spill) does not fit on the disk beside the file; marts.py measures it",
    )
    ap.add_argument(
        "--model-map",
        choices=["full", "compact", "minimal"],
        default="full",
        help="payload size: full as litellm logs it, compact or minimal (see generate.py)",
    )
    args = ap.parse_args(argv)
    if args.rows < 100:
        ap.error("--rows must be at least 100")
    args.data_dir = args.data_dir.resolve()
    started = datetime.now(UTC)
    load_start = loadavg()
    try:
        res = run(args)
    except BenchmarkError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    for m in res["measurements"].values():
        m["rows_per_s"] = round(m["rows"] / m["seconds"]) if m["rows"] else None
    report = {
        "benchmark": "ingest",
        "rows": args.rows,
        "date": started.isoformat(timespec="seconds"),
        "marts": not args.no_marts,
        "backend": args.backend,
        "duration_seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "load_average_start": load_start,
        "load_average_end": loadavg(),
        "machine": machine(),
        **res,
    }
    report["ratios"] = ratios(report["measurements"])
    args.results_dir.mkdir(parents=True, exist_ok=True)
    suffix = (
        ("" if args.model_map == "full" else f"-{args.model_map}")
        + ("-load" if args.no_marts else "")
        + ("" if args.backend == "duckdb" else f"-{args.backend}")
    )
    out = args.results_dir / f"ingest-{args.rows}{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
