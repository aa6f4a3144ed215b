"""The tuner at scale: ``python benchmarks/tune.py [--attempts 1000000] [--keep DIR]``.

Builds the synthetic warehouse of ``benchmarks/marts.py`` (N attempts over 30 days, 10 models
from 6 providers, 6 tasks, retries and fallbacks, a priced and an unpriced model), writes a
manifest routing its tasks over its models, and times :func:`app.tuner.proposal.propose` over
the 28-day window: evidence queries, chains of length 1-3 for every task, P95 simulation,
the savings bootstrap (200 resamples) and the rendered manifest. Best of 3, each on fresh
read-only connections as the CLI opens them; then the whole ``routeledger tune --json``
command once in a fresh process (start-up and the freshness check of the marts included).

Prints the figures and writes ``benchmarks/results/tune-<N>.json``. Target: under 5 s at 10M.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from marts import MODELS, build  # noqa: E402

from app.tuner.proposal import propose  # noqa: E402
from collectors import config, pipeline  # noqa: E402

TASKS = ["boilerplate", "debugging", "algorithm", "review", "architecture", "unlabeled"]


def manifest() -> str:
    lines = [
        "# Benchmark manifest: every task over the synthetic models.",
        "routing:",
        "  default_budget_limit: 0.5",
        "  timeout_s: 30",
        "providers:",
    ]
    for provider, model, _, out in MODELS:
        lines += [
            f"  - name: {model}",
            f"    model: {provider}/{model}",
            f"    cost_per_output_token: {(out or 1.0) / 1e6:.10f}".rstrip("0"),
            f"    supported_tasks: [{', '.join(TASKS)}]",
        ]
    lines.append("tasks:")
    names = [m for _, m, _, _ in MODELS]
    for i, task in enumerate(TASKS):
        chain = [names[(i + k) % len(names)] for k in range(3)]
        lines += [
            f"  {task}:",
            f"    chain: [{', '.join(chain)}]",
            "    success_target: 0.97",
            "    latency_target_ms: 20000",
            "    max_output_tokens: 1024",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", type=int, default=1_000_000)
    ap.add_argument("--keep", help="build (or reuse) the warehouse in this folder")
    args = ap.parse_args()
    home = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rl-tune-"))
    home.mkdir(parents=True, exist_ok=True)
    path = home / "warehouse.duckdb"
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
    (home / "manifest.yaml").write_text(manifest(), encoding="utf-8")
    cfg = config.load(home)
    built = path.exists() and (home / f".built-{args.attempts}").exists()
    generate_s = rebuild_s = None
    if not built:
        path.unlink(missing_ok=True)
        t = time.perf_counter()
        build(path, args.attempts)
        generate_s = time.perf_counter() - t
        t = time.perf_counter()
        pipeline.update_marts(cfg, force=True, rematch=False)
        rebuild_s = time.perf_counter() - t
        (home / f".built-{args.attempts}").touch()
    since, until = date(2026, 10, 1), date(2026, 10, 28)
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        p = propose(cfg, None, since, until)
        runs.append(time.perf_counter() - t)
    t = time.perf_counter()
    cli = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "app.cli",
            "--home",
            str(home),
            "tune",
            "--since",
            str(since),
            "--until",
            str(until),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    cli_s = time.perf_counter() - t
    out = json.loads(cli.stdout)
    result = {
        "attempts": args.attempts,
        "generate_seconds": None if generate_s is None else round(generate_s, 2),
        "rebuild_marts_seconds": None if rebuild_s is None else round(rebuild_s, 2),
        "propose_seconds": [round(x, 3) for x in runs],
        "propose_best_seconds": round(min(runs), 3),
        "cli_tune_json_seconds": round(cli_s, 3),
        "target_s": 5.0,
        "met": min(runs) < 5.0,
        "tasks": {t["task"]: t["status"] for t in out["tasks"]},
        "candidate_chains": {t.task: len(t.candidates) for t in p.tasks},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "loadavg": os.getloadavg(),
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(
        f"{args.attempts:,} attempts: propose best {min(runs):.2f} s of {runs}; "
        f"`routeledger tune --json` {cli_s:.2f} s; target < 5 s: "
        f"{'met' if result['met'] else 'MISSED'}"
    )
    dest = Path(__file__).parent / "results" / f"tune-{args.attempts}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {dest}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
