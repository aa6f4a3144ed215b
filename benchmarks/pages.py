"""Each dashboard page's first render at scale: ``python benchmarks/pages.py [--attempts N]``.

Builds (or reuses, with ``--home``) a warehouse of N synthetic attempts with
``benchmarks/marts.py``'s generator, then runs the real dashboard script under Streamlit's
AppTest, one fresh app per page (so no query result is cached), and times the page's first
complete run, queries included. Target: under 3 s per page at 10M attempts. Prints a table and
writes ``benchmarks/results/pages-<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import duckdb  # noqa: E402
from marts import build  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from collectors import config, pipeline  # noqa: E402

DASHBOARD = ROOT / "app" / "dashboard.py"
TARGET_S = 3.0


def pages() -> list[str]:
    return re.findall(r'st\.Page\("(views/\w+\.py)"', DASHBOARD.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", type=int, default=10_000_000)
    ap.add_argument("--home", type=Path, help="reuse (or keep) the warehouse in this folder")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="rl-pages-"))
    home.mkdir(parents=True, exist_ok=True)
    path = home / "warehouse.duckdb"
    if not path.exists():
        build(path, args.attempts)
        (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
        pipeline.update_marts(config.load(home), force=True, rematch=False)
    os.environ["ROUTELEDGER_HOME"] = str(home)
    con = duckdb.connect(str(path), read_only=True)
    n = con.execute("SELECT count(*) FROM attempts").fetchall()[0][0]
    con.close()
    results = []
    for i, page in enumerate(pages()):
        at = AppTest.from_file(str(DASHBOARD), default_timeout=120)
        if i == 0:  # the default page, cold
            t = time.perf_counter()
            at.run()
        else:  # the app is open; this page's queries have not run yet
            at.run()
            t = time.perf_counter()
            at.switch_page(page).run()
        seconds = time.perf_counter() - t
        errors = [str(e.value)[:120] for e in [*at.exception, *at.error]]
        results.append(
            {
                "page": page,
                "seconds": round(seconds, 3),
                "target_s": TARGET_S,
                "met": seconds < TARGET_S and not errors,
                "errors": errors,
            }
        )
    out = {
        "attempts": int(n),
        "pages": results,
        "loadavg": os.getloadavg(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"{n:,} attempts; first render of each page (cold cache), target < {TARGET_S:g} s")
    for r in results:
        flag = "met" if r["met"] else "MISSED"
        print(f"  {r['page']:28} {r['seconds']:7.3f} s  {flag} {'; '.join(r['errors'])}")
    dest = ROOT / "benchmarks" / "results" / f"pages-{args.attempts}.json"
    dest.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {dest}")


if __name__ == "__main__":
    main()
