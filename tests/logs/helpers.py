"""Builders for synthetic log lines shaped like the recorded fixtures."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import LOG_FIXTURES

_BASE = json.loads((LOG_FIXTURES / "litellm" / "slp_router_success.json").read_text())


def slp(i: int, **over: Any) -> dict[str, Any]:
    """A StandardLoggingPayload like the recorded one, with its own id and time."""
    d = json.loads(json.dumps(_BASE))
    d["id"] = f"call-{i:08d}"
    d["litellm_call_id"] = str(uuid.UUID(int=i))
    d["trace_id"] = f"trace-{i // 2:08d}"
    d["startTime"] = 1795000000.0 + i
    d["endTime"] = 1795000000.0 + i + 0.5
    d["completionStartTime"] = d["endTime"]
    d["prompt_tokens"] = 100 + i % 7
    d["completion_tokens"] = 20 + i % 3
    d.update(over)
    return d


def slp_lines(n: int, start: int = 0) -> bytes:
    return b"".join(json.dumps(slp(i)).encode() + b"\n" for i in range(start, start + n))


def rl_row(i: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attempt_id": f"a{i}",
        "logical_request_id": f"r{i}",
        "started_at": "2026-10-01T10:00:00Z",
        "ended_at": "2026-10-01T10:00:01.250Z",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "status": "success",
        "input_tokens": 10,
        "output_tokens": 5,
    }
    row.update(over)
    return row


def check_extract_contract(fmt: Any, doc: Any) -> None:
    """``fmt.extract(doc)`` raises RecordError or returns complete text candidate rows."""
    from collectors.logs.base import CANDIDATE_COLUMNS, RecordError

    try:
        rows = fmt.extract(doc)
    except RecordError:
        return
    for row in rows:
        assert set(row) == set(CANDIDATE_COLUMNS)
        assert all(v is None or isinstance(v, str) for v in row.values())


def ingest_home(tmp_path: Path, **ingest_settings: int) -> Any:
    """A home whose routeledger.toml sets ``[ingest]`` settings (and no price catalog)."""
    from collectors import config as config_mod

    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{k} = {v}\n" for k, v in ingest_settings.items())
    (home / "routeledger.toml").write_text(
        f"[ingest]\n{body}\n[prices]\nauto_catalog = false\n", encoding="utf-8"
    )
    return config_mod.load(home)


def warehouse_rows(cfg: Any, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
