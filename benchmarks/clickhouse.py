"""ClickHouse (chdb, the engine in-process) at scale: ``python benchmarks/clickhouse.py
[--attempts 10000000] [--home DIR]``.

Builds (or reuses, with ``--home``) the DuckDB warehouse of ``benchmarks/marts.py``'s generator,
then on a fresh chdb database:

* lands every base table as typed Arrow batches of 1M rows (what ingest ships per batch after
  the one DuckDB normaliser; the normaliser's own time is ``benchmarks/ingest.py``'s), with a
  deduplication token each;
* builds the materialized marts from the generated SQL as a full refresh does
  (``refresh.rebuild_full``: into ``__next`` tables, the marts keyed by logical request in parts
  of ``--part-attempts``, then swapped in);
* reads the disk each table takes (``system.parts``);
* times the same mart queries as ``benchmarks/marts.py`` on both engines (best of 3; on
  ClickHouse through :class:`collectors.warehouse.clickhouse.reader.Reader`, the app's reader,
  when it is installed) and checks both give the same rows.

Prints a table and writes ``benchmarks/results/clickhouse-<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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
from marts import QUERIES, build  # noqa: E402

from collectors import config, pipeline  # noqa: E402
from collectors.warehouse.clickhouse import apply, refresh  # noqa: E402
from collectors.warehouse.migrate import TABLE_LAYERS, VIEW_LAYERS, dependency_order, sql_files  # noqa: E402

BATCH_ROWS = 1_000_000
DATABASE = "bench"


def _client(path: Path) -> Any:
    import clickhouse_connect

    admin = clickhouse_connect.get_client(dsn=f"chdb://{path}")
    admin.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin.command(f"CREATE DATABASE {DATABASE}")
    return clickhouse_connect.get_client(dsn=f"chdb://{path}", database=DATABASE)


def land(duck: duckdb.DuckDBPyConnection, client: Any) -> dict[str, Any]:
    """Every base table as Arrow batches, one insert (and token) per batch."""
    t0 = time.perf_counter()
    rows: dict[str, int] = {}
    for f in sql_files():
        if f.layer not in TABLE_LAYERS:
            continue
        apply.run_file(client, f)
        reader = duck.sql(f"SELECT * FROM {f.name}").to_arrow_reader(BATCH_ROWS)
        n = 0
        for i, batch in enumerate(reader):
            import pyarrow as pa

            client.insert_arrow(
                f.name,
                pa.Table.from_batches([batch]),
                settings={"insert_deduplication_token": f"bench-{f.name}-{i}"},
            )
            n += batch.num_rows
        rows[f.name] = n
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "rows": rows}


def views_and_marts(client: Any) -> dict[str, float]:
    t0 = time.perf_counter()
    files = sql_files()
    for f in files:
        if f.layer == "macros":
            apply.run_file(client, f)
    for layer in VIEW_LAYERS:
        for f in dependency_order([f for f in files if f.layer == layer], layer):
            apply.run_file(client, f)
    views = time.perf_counter() - t0
    t0 = time.perf_counter()
    refresh.rebuild_full(client)
    return {"views_seconds": round(views, 2), "marts_seconds": round(time.perf_counter() - t0, 2)}


def disk(client: Any) -> dict[str, dict[str, int]]:
    rows = client.query(
        "SELECT table, sum(rows), sum(bytes_on_disk), sum(data_uncompressed_bytes) "
        "FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table "
        "ORDER BY sum(bytes_on_disk) DESC"
    ).result_rows
    return {t: {"rows": int(r), "bytes": int(b), "uncompressed": int(u)} for t, r, b, u in rows}


def _best(fn: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(3):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def queries(path: Path, client: Any, duckdb_too: bool = True) -> list[dict[str, Any]]:
    try:
        from collectors.warehouse.clickhouse.reader import Reader  # type: ignore[import-not-found]
    except ImportError:
        return []
    reader = Reader(client)
    out = []
    for name, sql in QUERIES.items():

        def on_duckdb(sql: str = sql) -> list[tuple[Any, ...]]:
            con = duckdb.connect(str(path), read_only=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()

        c_s, c_rows = _best(lambda sql=sql: reader.execute(sql).fetchall())
        row: dict[str, Any] = {"query": name, "clickhouse_seconds": round(c_s, 4)}
        if duckdb_too:
            d_s, d_rows = _best(on_duckdb)
            row.update(
                duckdb_seconds=round(d_s, 4),
                rows=len(d_rows),
                same_row_count=len(d_rows) == len(c_rows),
            )
        else:
            row["rows"] = len(c_rows)
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", type=int, default=10_000_000)
    ap.add_argument("--home", type=Path, help="reuse (or keep) the DuckDB warehouse here")
    ap.add_argument(
        "--clickhouse-only",
        action="store_true",
        help="skip DuckDB's marts and its query timings (sizes where DuckDB's rebuild would "
        "take longer than the ClickHouse side being measured): base tables only from DuckDB",
    )
    ap.add_argument(
        "--part-attempts",
        type=int,
        default=refresh.PART_ATTEMPTS,
        help="derive the marts keyed by logical request in parts of about this many attempts "
        "(0: in one piece)",
    )
    args = ap.parse_args()
    refresh.PART_ATTEMPTS = args.part_attempts or 2**62
    # absolute: a chdb:// URL takes the path after the scheme, a relative one reads as a host
    home = (args.home or Path(tempfile.mkdtemp(prefix="rl-ch-"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    path = home / "warehouse.duckdb"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.attempts)
        print(
            f"generated {args.attempts:,} attempts in {time.perf_counter() - t0:.0f} s", flush=True
        )
        (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
        if not args.clickhouse_only:
            pipeline.update_marts(config.load(home), force=True, rematch=False)
    duck = duckdb.connect(str(path), read_only=True)
    n = duck.execute("SELECT count(*) FROM raw_attempts").fetchall()[0][0]
    client = _client(Path(tempfile.mkdtemp(prefix="rl-chdb-", dir=home)))
    landed = land(duck, client)
    duck.close()
    print(f"landed {n:,} attempts in {landed['seconds']} s", flush=True)
    landed["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    built = views_and_marts(client)
    sizes = disk(client)
    timed = queries(path, client, duckdb_too=not args.clickhouse_only)
    raw = sizes.get("raw_attempts", {"bytes": 0, "rows": 0, "uncompressed": 0})
    out = {
        "attempts": int(n),
        "land": landed,
        **built,
        "disk": sizes,
        "raw_bytes_per_attempt": round(raw["bytes"] / max(raw["rows"], 1), 1),
        "queries": timed,
        "duckdb_marts": not args.clickhouse_only,
        "part_attempts": args.part_attempts,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "loadavg": os.getloadavg(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "clickhouse": client.query("SELECT version()").result_rows[0][0],
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"{n:,} attempts on chdb {out['machine']['clickhouse']}")
    print(f"  landed as Arrow in {landed['seconds']} s ({n / landed['seconds']:,.0f} rows/s)")
    print(
        f"  views {built['views_seconds']} s, materialized marts built in {built['marts_seconds']} s"
    )
    print(
        f"  peak RSS {out['peak_rss_mb']:,.0f} MiB ({landed['peak_rss_mb']:,.0f} MiB after landing)"
    )
    for t, s in list(sizes.items())[:6]:
        print(f"  {t:24} {s['rows']:>12,} rows {s['bytes'] / 2**20:10.1f} MiB on disk")
    print(f"  raw_attempts: {out['raw_bytes_per_attempt']} bytes per attempt on disk")
    for q in timed:
        duck_part = (
            f"duckdb {q['duckdb_seconds']:7.3f} s  "
            if "duckdb_seconds" in q
            else "duckdb      -    "
        )
        same = q.get("same_row_count", "-")
        print(
            f"  {q['query']:28} {duck_part}clickhouse {q['clickhouse_seconds']:7.3f} s  "
            f"rows {q['rows']:,}  same rows: {same}"
        )
    whole = "" if args.part_attempts else "-one-piece"
    dest = ROOT / "benchmarks" / "results" / f"clickhouse-{args.attempts}{whole}.json"
    dest.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {dest}")


if __name__ == "__main__":
    main()
