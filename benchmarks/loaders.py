"""The loaders RouteLedger's ingest is compared with, one per process so peak memory is theirs.

``python benchmarks/loaders.py read_json FILE DB``: DuckDB's own ``read_json`` with no column
spec, into a table in a fresh DuckDB file: the floor of what any DuckDB-based loader can do.

``python benchmarks/loaders.py pandas FILE DB [--nrows N] [--chunksize N]``: what a team would
write with pandas: ``read_json(lines=True, chunksize=...)``, ``json_normalize`` of the nested
fields RouteLedger keeps, typed columns, each chunk appended to a DuckDB table.

Each prints one JSON object: ``{"rows": n, "seconds": s}`` (``seconds`` inside the process).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

# the StandardLoggingPayload fields RouteLedger reads (collectors/logs/litellm.py)
TOP = [
    "id",
    "litellm_call_id",
    "trace_id",
    "status",
    "custom_llm_provider",
    "model",
    "model_group",
    "model_id",
    "response_cost",
    "prompt_tokens",
    "completion_tokens",
    "end_user",
    "cache_hit",
    "stream",
    "error_str",
]
TIMES = ["startTime", "endTime", "completionStartTime"]
METADATA = [
    "user_api_key_hash",
    "user_api_key_alias",
    "user_api_key_team_id",
    "user_api_key_team_alias",
    "user_api_key_user_id",
    "user_api_key_request_route",
    "requester_metadata.task",
    "usage_object.prompt_tokens_details.cached_tokens",
    "usage_object.cache_read_input_tokens",
    "usage_object.cache_creation_input_tokens",
    "usage_object.completion_tokens_details.reasoning_tokens",
]
ERROR = ["error_class", "error_code"]


def load_read_json(path: Path, db: Path) -> int:
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited')", [str(path)]
    )
    (n,) = con.execute("SELECT count(*) FROM t").fetchone() or (0,)
    con.close()
    return int(n)


def _task(tags: Any) -> Any:
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, str) and tag.startswith("task:"):
            return tag[5:]
    return None


def load_pandas(path: Path, db: Path, nrows: int | None, chunksize: int) -> int:
    import pandas as pd

    con = duckdb.connect(str(db))
    n = 0
    reader = pd.read_json(path, lines=True, chunksize=chunksize, nrows=nrows, dtype=False)
    with reader:
        for chunk in reader:
            df = chunk[TOP].reset_index(drop=True)
            for c in TIMES:
                df[c] = pd.to_datetime(chunk[c].to_numpy(), unit="s")
            meta = pd.json_normalize(chunk["metadata"].tolist())
            for c in METADATA:
                df["metadata." + c] = meta[c] if c in meta.columns else None
            err = pd.json_normalize(chunk["error_information"].tolist())
            for c in ERROR:
                df["error_information." + c] = err[c] if c in err.columns else None
            df["task"] = chunk["request_tags"].map(_task).to_numpy()
            for c in ("prompt_tokens", "completion_tokens"):
                df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
            df["response_cost"] = pd.to_numeric(df["response_cost"], errors="coerce")
            df = df.astype({c: "string" for c in df.columns if df[c].dtype == object})
            con.register("chunk_df", df)
            if n == 0:
                con.execute("CREATE TABLE attempts AS SELECT * FROM chunk_df")
            else:
                con.execute("INSERT INTO attempts BY NAME SELECT * FROM chunk_df")
            con.unregister("chunk_df")
            n += len(df)
    (rows,) = con.execute("SELECT count(*) FROM attempts").fetchone() or (0,)
    con.close()
    assert rows == n, (rows, n)
    return int(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("loader", choices=["read_json", "pandas"])
    ap.add_argument("file", type=Path)
    ap.add_argument("db", type=Path, help="DuckDB file to create (must not exist)")
    ap.add_argument("--nrows", type=int, help="pandas: read only the first N lines")
    ap.add_argument("--chunksize", type=int, default=10_000, help="pandas: lines per chunk")
    args = ap.parse_args(argv)
    if args.db.exists():
        ap.error(f"{args.db} exists; the loaders write into a fresh file")
    began = time.perf_counter()
    if args.loader == "read_json":
        rows = load_read_json(args.file, args.db)
    else:
        rows = load_pandas(args.file, args.db, args.nrows, args.chunksize)
    print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - began, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
