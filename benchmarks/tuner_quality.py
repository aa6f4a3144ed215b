"""How good the tuner's proposals are, over many generated cases with known truth
(``benchmarks/tuner_cases.py``): cost and success of the proposed chains against the strong model
alone and against the true best chain, and how often the tuner's 95% bounds cover the true
success.

    .venv/bin/python benchmarks/tuner_quality.py [--seeds 60] [--start 1] [--requests N]
                                                 [--no-pool] [--out benchmarks/results/...]

Prints one line per seed and a summary; writes the summary and every task's score as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import tuner_cases  # noqa: E402


def summary(scores: list[tuner_cases.TaskScore]) -> dict[str, float | int]:
    changed = [x for x in scores if x.status == "changed"]
    cands = [c for x in scores for c in x.candidates]
    with_bound = [x for x in scores if not math.isnan(x.bound)]
    return {
        "cases": len({x.seed for x in scores}),
        "tasks": len(scores),
        "changed": len(changed),
        # cost per successful request, as a share of the strong model alone (1.0: no saving)
        "cost_vs_strong": statistics.fmean(x.true_cost / x.strong_cost for x in scores),
        "best_cost_vs_strong": statistics.fmean(x.best_cost / x.strong_cost for x in scores),
        "success_minus_strong_pp": statistics.fmean(
            (x.true_success - x.strong_success) * 100 for x in scores
        ),
        "meets_target": sum(x.true_success >= x.target for x in scores) / len(scores),
        "changed_meets_target": (
            sum(x.true_success >= x.target for x in changed) / len(changed) if changed else 1.0
        ),
        # one-sided 95% bounds: the share under the true success
        "coverage_proposed": (
            sum(x.bound <= x.true_success for x in with_bound) / len(with_bound)
            if with_bound
            else 1.0
        ),
        "coverage_all_chains": sum(b <= t for b, _, t in cands) / len(cands) if cands else 1.0,
        "mean_abs_error_pp": statistics.fmean(
            abs(x.predicted - x.true_success) * 100 for x in with_bound
        ),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--requests", type=int, default=None, help="logged requests per case")
    ap.add_argument("--no-pool", action="store_true", help="without partial pooling")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tuner_quality.json")
    a = ap.parse_args()
    t0 = time.monotonic()
    scores: list[tuner_cases.TaskScore] = []
    for seed in range(a.start, a.start + a.seeds):
        case = tuner_cases.make(seed, requests=a.requests)
        got = tuner_cases.score(case, pool=not a.no_pool)
        scores += got
        line = ", ".join(
            f"{x.task}: {x.status} {' → '.join(x.proposed)} "
            f"{x.true_cost / x.strong_cost:.2f}× cost, {x.true_success:.3f} vs {x.target:.3f}"
            for x in got
        )
        print(f"seed {seed:>3} ({sum(case.volume.values()):>6,} requests) {line}", flush=True)
    s = summary(scores)
    s["seconds"] = round(time.monotonic() - t0, 1)
    print()
    for k, v in s.items():
        print(f"{k:>26}: {v:.3f}" if isinstance(v, float) else f"{k:>26}: {v}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        json.dumps({"summary": s, "tasks": [x.as_dict() for x in scores]}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten: {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
