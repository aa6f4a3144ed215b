"""Mart query times at scale: ``python benchmarks/marts.py [--attempts 10000000]``.

Builds a warehouse whose ``raw_attempts`` holds N synthetic attempts generated inside DuckDB
(30 days, 10 models from 6 providers, 6 tasks, retries and fallbacks, cached tokens, a priced
and an unpriced model, price versions with a mid-month change), then times:

* the full rebuild of the materialized marts (after a price or configuration change), and the
  incremental one after an ordinary ingest of 1% new attempts (how long the write lock is held);
* each query the dashboard and the CLI run against the marts (best of 3, each on a fresh
  read-only connection, as the app opens them).

Prints a table and writes ``benchmarks/results/marts-<N>.json``. Target: each query < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from collectors import config, pipeline
from collectors.warehouse import Warehouse, configure

MODELS = [
    ("openai", "gpt-4o", 2.5, 10.0),
    ("openai", "gpt-4o-mini", 0.15, 0.6),
    ("anthropic", "claude-sonnet-4-5", 3.0, 15.0),
    ("anthropic", "claude-haiku-4-5", 1.0, 5.0),
    ("google", "gemini-2.5-flash", 0.3, 2.5),
    ("google", "gemini-2.5-pro", 1.25, 10.0),
    ("deepseek", "deepseek-chat", 0.28, 0.42),
    ("mistral", "mistral-large-latest", 2.0, 6.0),
    ("groq", "llama-3.3-70b-versatile", 0.59, 0.79),
    ("acme", "house-model", None, None),
]
TASKS = ["boilerplate", "debugging", "algorithm", "review", "architecture", None]

QUERIES = {
    "task_stats (month)": "SELECT * FROM task_stats('2026-10-01', '2026-10-31')",
    "model_task_stats (month)": "SELECT * FROM model_task_stats('2026-10-01', '2026-10-31')",
    "model_task_stats (week)": "SELECT * FROM model_task_stats('2026-10-12', '2026-10-18')",
    "spend_per_day by provider": "SELECT local_day, provider, sum(spend_usd) FROM spend_per_day GROUP BY ALL",
    "spend this week vs last": "SELECT local_week, sum(spend_usd) FROM spend_per_day WHERE local_week >= DATE '2026-10-19' GROUP BY ALL",
    "unpriced_usage": "SELECT * FROM unpriced_usage",
    "cost_discrepancies": "SELECT * FROM cost_discrepancies",
    "price_changes": "SELECT * FROM price_changes",
    "latency by model per day": (
        "SELECT local_day, served_model, quantile_cont(latency_ms, 0.95), count(*) FROM attempts "
        "WHERE status = 'success' AND local_day BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' GROUP BY ALL"
    ),
    "fallback flows": (
        "SELECT first_model, final_model, count(*) FROM logical_requests WHERE fell_back "
        "AND local_day BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' GROUP BY ALL"
    ),
    "error classes per day": (
        "SELECT local_day, error_class, count(*) FROM attempts WHERE status = 'error' GROUP BY ALL"
    ),
}


def build(path: Path, n: int) -> None:
    Warehouse(path).migrate()
    con = duckdb.connect(str(path))
    configure(con)
    models_sql = ", ".join(f"({i}, '{p}', '{m}')" for i, (p, m, _, _) in enumerate(MODELS))
    tasks_sql = ", ".join(
        f"({i}, {('NULL' if t is None else repr(t))})" for i, t in enumerate(TASKS)
    )
    con.execute(
        f"CREATE TEMP TABLE models(i INTEGER, provider VARCHAR, model VARCHAR); INSERT INTO models VALUES {models_sql}"
    )
    con.execute(
        f"CREATE TEMP TABLE tasks(i INTEGER, task VARCHAR); INSERT INTO tasks VALUES {tasks_sql}"
    )
    # attempts: request r has 1 attempt (85%), 2 (11%) or 3 (4%); attempt k of r starts after k-1
    con.execute(f"""
        INSERT INTO raw_attempts BY NAME
        WITH g AS (SELECT range AS i FROM range({n})),
        a AS (
            SELECT i,
                i // 1 AS seq,
                (hash(i) % 2147483647)::BIGINT AS h,
                (hash(i // 3) % 100)::BIGINT AS rq
            FROM g
        ),
        shaped AS (
            SELECT i, h,
                CASE WHEN rq < 85 THEN i ELSE i - (i % 3) END AS req,
                CASE WHEN rq < 85 THEN 0 ELSE i % 3 END AS k,
                CASE WHEN rq < 85 THEN 1 ELSE 3 END AS kmax
            FROM a
        )
        SELECT
            'bench' AS load_id, 'litellm' AS source, 'bench.jsonl' AS source_file, shaped.i AS source_line,
            'litellm:' || shaped.i AS attempt_id, 'r' || req AS logical_request_id,
            TIMESTAMP '2026-10-01' + to_microseconds((req * (30::BIGINT * 86400 * 1000000 // {n}))::BIGINT)
                + to_milliseconds(k * 1500) AS started_at,
            TIMESTAMP '2026-10-01' + to_microseconds((req * (30::BIGINT * 86400 * 1000000 // {n}))::BIGINT)
                + to_milliseconds(k * 1500 + 200 + (h % 6000)) AS ended_at,
            CASE WHEN h % 3 = 0 THEN 80 + h % 400 END AS ttft_ms,
            200 + (h % 6000) AS latency_ms,
            m.provider, 'group-' || t.i AS requested_model, m.model AS served_model,
            'dep-' || m.i AS deployment_id, NULL AS base_model, t.task,
            'team-' || (h % 7) AS team, 'user-' || (h % 500) AS user_id,
            sha256('key' || (h % 40)) AS key_hash, 'key-' || (h % 40) AS key_alias, '/chat/completions' AS route,
            100 + h % 8000 AS input_tokens, CASE WHEN h % 4 = 0 THEN (h % 8000) // 2 END AS cached_input_tokens,
            NULL AS cache_write_tokens, NULL AS cache_write_1h_tokens,
            10 + h % 1500 AS output_tokens, CASE WHEN h % 9 = 0 THEN h % 400 END AS reasoning_tokens,
            true AS input_includes_cached, true AS output_includes_reasoning,
            CASE WHEN k + 1 < kmax OR h % 50 = 0 THEN 'error' ELSE 'success' END AS status,
            CASE WHEN k + 1 < kmax OR h % 50 = 0 THEN (['rate_limit', 'timeout', 'server_error'])[1 + h % 3] END AS error_class,
            NULL AS error_type, CASE WHEN k + 1 < kmax THEN 429 END AS http_status,
            h % 97 = 0 AS gateway_cache_hit, h % 3 = 0 AS streamed,
            ((100 + h % 8000) * 0.0000025 + (10 + h % 1500) * 0.00001)::DECIMAL(18, 10) AS reported_cost_usd,
            NULL AS validation_passed, NULL AS quality_score, now()::TIMESTAMP AS ingested_at
        FROM shaped
        JOIN models m ON m.i = (hash(req) + k) % {len(MODELS)}
        JOIN tasks t ON t.i = hash(req * 7) % {len(TASKS)}
    """)
    versions = []
    for i, (p, m, inp, out) in enumerate(MODELS):
        if inp is None:
            continue
        versions.append(
            f"('v{i}a', 'litellm', 4, '{p}', '{m}', 'standard', 0, NULL, NULL, false, {inp}, {inp / 2}, NULL, NULL, {out}, NULL, NULL, NULL, 0, TIMESTAMP '1970-01-01', TIMESTAMP '2026-10-15', NULL, NULL)"
        )
        versions.append(
            f"('v{i}b', 'litellm', 4, '{p}', '{m}', 'standard', 0, NULL, NULL, false, {inp * 0.8}, {inp * 0.4}, NULL, NULL, {out * 0.8}, NULL, NULL, NULL, 0, TIMESTAMP '2026-10-15', NULL, NULL, NULL)"
        )
    con.execute("INSERT INTO price_versions VALUES " + ", ".join(versions))
    con.execute(
        "INSERT INTO model_matches SELECT DISTINCT provider, served_model, requested_model, base_model, "
        "CASE WHEN provider <> 'acme' THEN provider END, CASE WHEN provider <> 'acme' THEN served_model END, "
        "CASE WHEN provider <> 'acme' THEN 'exact' ELSE 'unmatched' END, 'bench', "
        "NULL, NULL, NULL, now()::TIMESTAMP FROM raw_attempts"  # identity columns, then matched_at
    )
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", type=int, default=10_000_000)
    ap.add_argument("--keep", help="keep the warehouse in this folder")
    args = ap.parse_args()
    home = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rl-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    path = home / "warehouse.duckdb"
    if path.exists():
        path.unlink()
    t = time.perf_counter()
    build(path, args.attempts)
    generate_s = time.perf_counter() - t
    # the synthetic price versions and matches are the whole price world here: no catalog
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
    cfg = config.load(home)
    t = time.perf_counter()
    pipeline.update_marts(cfg, force=True, rematch=False)
    rebuild_s = time.perf_counter() - t
    # an ordinary ingest afterwards: 1% new attempts in a new load, then the incremental rebuild
    con = duckdb.connect(str(path))
    configure(con)
    extra = max(args.attempts // 100, 1)
    con.execute(
        # as an ingest appends: the newest day's traffic, a day later, in a new load
        "INSERT INTO raw_attempts SELECT * REPLACE ('bench-2' AS load_id, attempt_id || '-new' AS attempt_id, "
        "logical_request_id || '-new' AS logical_request_id, started_at + INTERVAL 1 DAY AS started_at, "
        "ended_at + INTERVAL 1 DAY AS ended_at) FROM raw_attempts "
        "WHERE started_at >= (SELECT max(started_at) - INTERVAL 1 DAY FROM raw_attempts) "
        f"USING SAMPLE {extra} ROWS"
    )
    con.close()
    t = time.perf_counter()
    pipeline.update_marts(cfg, rematch=False)
    incremental_s = time.perf_counter() - t
    results = []
    for name, sql in QUERIES.items():
        best = float("inf")
        rows = 0
        for _ in range(3):
            t = time.perf_counter()
            con = duckdb.connect(str(path), read_only=True)
            configure(con)
            rows = len(con.execute(sql).fetchall())
            con.close()
            best = min(best, time.perf_counter() - t)
        results.append(
            {
                "query": name,
                "seconds": round(best, 4),
                "rows": rows,
                "target_s": 1.0,
                "met": best < 1.0,
            }
        )
    out = {
        "attempts": args.attempts,
        "generate_seconds": round(generate_s, 2),
        "rebuild_marts_seconds": round(rebuild_s, 2),
        "incremental_rebuild_seconds": round(incremental_s, 2),
        "incremental_new_attempts": extra,
        "queries": results,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "loadavg": os.getloadavg(),
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(
        f"{args.attempts:,} attempts; generated in {generate_s:.1f}s; full rebuild {rebuild_s:.1f}s; "
        f"+{extra:,} attempts rebuilt incrementally in {incremental_s:.2f}s"
    )
    print(f"{'query':32} {'seconds':>8} {'rows':>8}  target < 1 s")
    for r in results:
        print(
            f"{r['query']:32} {r['seconds']:8.3f} {r['rows']:8,}  {'met' if r['met'] else 'MISSED'}"
        )
    dest = Path(__file__).parent / "results" / f"marts-{args.attempts}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {dest}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
