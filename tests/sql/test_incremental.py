"""An incremental rebuild of the marts after an ingest equals a full rebuild, including late
attempts of requests first seen in an earlier load (a retry logged in the next file)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from collectors import config, derive
from collectors.ingest import ingest
from collectors.warehouse import materialized_files
from tests.logs.helpers import rl_row


def _rows(i0: int, n: int, late_for: range = range(0)) -> str:
    out = []
    for i in range(i0, i0 + n):
        out.append(
            rl_row(
                i,
                logical_request_id=f"r{i}",
                started_at=f"2026-03-0{1 + i % 5}T10:00:{i % 60:02d}Z",
                ended_at=f"2026-03-0{1 + i % 5}T10:01:{i % 60:02d}Z",
                status="error" if i % 4 == 0 else "success",
                task=["review", "debugging"][i % 2],
                cost_usd=0.001 * (1 + i % 3),
                model=["gpt-4o", "claude-sonnet-4-5"][i % 2],
                provider=["openai", "anthropic"][i % 2],
            )
        )
    for j in late_for:  # a second attempt of an earlier request, on another day's file
        out.append(
            rl_row(
                10_000 + j,
                logical_request_id=f"r{j}",
                started_at=f"2026-03-0{1 + j % 5}T10:02:00Z",
                ended_at=f"2026-03-0{1 + j % 5}T10:02:30Z",
                model="gpt-4o-mini",
                provider="openai",
                status="success",
                task="review",
                cost_usd=0.0005,
            )
        )
    return "".join(json.dumps(r) + "\n" for r in out)


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            f.name: sorted(map(repr, con.execute(f"SELECT * FROM {f.name}").fetchall()))
            for f in materialized_files()
        }  # type: ignore[misc]
    finally:
        con.close()


def test_incremental_rebuild_equals_full_rebuild(home: Path, tmp_path: Path) -> None:
    cfg = config.load(home)
    (tmp_path / "day1.jsonl").write_text(_rows(0, 60))
    ingest(cfg, [str(tmp_path / "day1.jsonl")])
    (tmp_path / "day2.jsonl").write_text(_rows(60, 40, late_for=range(0, 20, 4)))
    ingest(cfg, [str(tmp_path / "day2.jsonl")])
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    kind = con.execute("SELECT kind FROM derived_state").fetchall()
    retried = con.execute(
        "SELECT attempts, final_model FROM logical_requests WHERE logical_request_id = 'r0'"
    ).fetchall()
    con.close()
    assert kind == [("incremental",)]
    assert retried == [(2, "gpt-4o-mini")]  # the late retry joined its request
    incremental = _snapshot(cfg.warehouse_path)
    assert derive.refresh(cfg, force=True)
    full = _snapshot(cfg.warehouse_path)
    for name in full:
        assert incremental[name] == full[name], name


def test_nothing_new_rebuilds_nothing(home: Path, tmp_path: Path) -> None:
    cfg = config.load(home)
    (tmp_path / "a.jsonl").write_text(_rows(0, 10))
    ingest(cfg, [str(tmp_path / "a.jsonl")])
    assert derive.refresh(cfg) is False
