"""Each dashboard page's first render at scale: ``python benchmarks/pages.py [--attempts N]``.

Builds (or reuses, with ``--home``) a warehouse of N synthetic attempts with
``benchmarks/marts.py``'s generator, then runs the real dashboard script under Streamlit's
AppTest, one fresh app per page (so no query result is cached), and times the page's first
complete run, queries included. Target: under 3 s per page at 10M attempts. Prints a table and
writes ``benchmarks/results/pages-<N>.json``.

``--during-rebuild``: readers never wait. A full rebuild of the marts runs in another process
(holding the write lock throughout) while every page renders, each with no cached result, so
every query reads the read snapshot; writes ``pages-during-rebuild-<N>.json`` with the rebuild's
and the snapshot's timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import duckdb  # noqa: E402
import streamlit as st  # noqa: E402
from marts import build  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from collectors import config, pipeline  # noqa: E402
from collectors.warehouse import Warehouse  # noqa: E402

DASHBOARD = ROOT / "app" / "dashboard.py"
TARGET_S = 3.0


def pages() -> list[str]:
    return re.findall(r'st\.Page\("(views/\w+\.py)"', DASHBOARD.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", type=int, default=10_000_000)
    ap.add_argument("--home", type=Path, help="reuse (or keep) the warehouse in this folder")
    ap.add_argument(
        "--during-rebuild",
        action="store_true",
        help="render every page while another process runs a full rebuild of the marts",
    )
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
    rebuild = _start_rebuild(home) if args.during_rebuild else None
    results = []
    for i, page in enumerate(pages()):
        if rebuild:
            st.cache_data.clear()  # every query of this page reads the snapshot anew
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
        row = {
            "page": page,
            "seconds": round(seconds, 3),
            "target_s": TARGET_S,
            "met": seconds < TARGET_S and not errors,
            "errors": errors,
        }
        if rebuild:
            row["rebuild_running"] = rebuild["proc"].poll() is None
            row["snapshot_note"] = any("as of their last refresh" in c.value for c in at.caption)
            row["met"] = row["met"] and row["rebuild_running"] and row["snapshot_note"]
        results.append(row)
    out = {
        "attempts": int(n),
        "pages": results,
        **(_finish_rebuild(rebuild) if rebuild else {}),
        "loadavg": os.getloadavg(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    during = " during a full rebuild in another process" if rebuild else ""
    print(
        f"{n:,} attempts; first render of each page (cold cache){during}, target < {TARGET_S:g} s"
    )
    for r in results:
        flag = "met" if r["met"] else "MISSED"
        print(f"  {r['page']:28} {r['seconds']:7.3f} s  {flag} {'; '.join(r['errors'])}")
    if rebuild:
        print(
            f"  full rebuild {out['rebuild_seconds']} s (held the write lock {out['held_seconds']} s), "
            f"read snapshot published in {out['publish_seconds']} s, "
            f"{out['snapshot_bytes'] / 2**30:.2f} GiB"
        )
    name = "pages-during-rebuild" if rebuild else "pages"
    dest = ROOT / "benchmarks" / "results" / f"{name}-{args.attempts}.json"
    dest.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {dest}")


REBUILD = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.INFO, format='%(message)s', stream=sys.stdout)\n"
    "from collectors import config, pipeline\n"
    "pipeline.update_marts(config.load(sys.argv[1]), force=True, rematch=False)\n"
)


def _start_rebuild(home: Path) -> dict[str, Any]:
    """Publish the snapshot if there is none, then start a full rebuild in another process and
    return once it holds the warehouse."""
    cfg = config.load(home)
    pipeline.update_marts(cfg, rematch=False)  # publishes the read snapshot when there is none
    wh = Warehouse.from_config(cfg)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", REBUILD, str(home)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    while not wh.readable_while_held():
        if proc.poll() is not None or time.perf_counter() - t0 > 120:
            raise SystemExit("the rebuild never took the warehouse")
        time.sleep(0.1)
    return {"proc": proc, "t0": t0, "held_at": time.perf_counter(), "path": wh.snapshot_path}


def _finish_rebuild(r: dict[str, Any]) -> dict[str, Any]:
    out, _ = r["proc"].communicate(timeout=3600)
    total = time.perf_counter() - r["t0"]
    m = re.search(r"rebuild of the marts in ([\d.]+)s, read snapshot published in ([\d.]+)s", out)
    return {
        "rebuild_seconds": round(total, 1),
        "held_seconds": round(time.perf_counter() - r["held_at"], 1),
        "marts_seconds": float(m.group(1)) if m else None,
        "publish_seconds": float(m.group(2)) if m else None,
        "snapshot_bytes": r["path"].stat().st_size,
    }


if __name__ == "__main__":
    main()
