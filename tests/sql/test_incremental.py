"""An incremental rebuild of the marts after an ingest equals a full rebuild, including late
attempts of requests first seen in an earlier load (a retry logged in the next file)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pytest

from collectors import config, pipeline
from collectors.pipeline import ingest
from collectors.warehouse import marts
from collectors.warehouse.migrate import materialized_files
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
    assert pipeline.update_marts(cfg, force=True)
    full = _snapshot(cfg.warehouse_path)
    for name in full:
        assert incremental[name] == full[name], name


def test_nothing_new_rebuilds_nothing(home: Path, tmp_path: Path) -> None:
    cfg = config.load(home)
    (tmp_path / "a.jsonl").write_text(_rows(0, 10))
    ingest(cfg, [str(tmp_path / "a.jsonl")])
    assert pipeline.update_marts(cfg) is False


def test_incremental_rebuild_reads_attempts_that_started_before_the_new_load(
    home: Path, tmp_path: Path
) -> None:
    """The incremental rebuild skips raw rows older than its scope can hold; an attempt that
    started before everything else of its request (logged late, from another file), and an
    attempt landing twice under an earlier start time, still come out as a full rebuild has
    them."""
    cfg = config.load(home)
    (tmp_path / "day1.jsonl").write_text(_rows(0, 60))
    ingest(cfg, [str(tmp_path / "day1.jsonl")])
    early = [
        rl_row(20_000, logical_request_id="r3", started_at="2026-03-04T09:00:00Z",
               ended_at="2026-03-04T09:00:05Z", status="error", error_class="rate_limit"),
        rl_row(7, logical_request_id="r7", started_at="2026-03-01T08:00:00Z",  # a repeat of a7
               ended_at="2026-03-01T08:00:09Z"),
    ]  # fmt: skip
    (tmp_path / "day2.jsonl").write_text(
        _rows(60, 10) + "".join(json.dumps(r) + "\n" for r in early)
    )
    ingest(cfg, [str(tmp_path / "day2.jsonl")])
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    kind = con.execute("SELECT kind FROM derived_state").fetchall()
    r3 = con.execute(
        "SELECT attempts, started_at, chain FROM logical_requests WHERE logical_request_id = 'r3'"
    ).fetchall()
    r7 = con.execute("SELECT count(*) FROM attempts WHERE logical_request_id = 'r7'").fetchall()
    con.close()
    assert kind == [("incremental",)]
    assert r3[0][0] == 2 and str(r3[0][1]) == "2026-03-04 09:00:00"  # the early attempt leads
    assert r3[0][2] == ["gpt-4o-mini", "claude-sonnet-4-5"]
    assert r7 == [(1,)]  # the repeat counts once
    incremental = _snapshot(cfg.warehouse_path)
    assert pipeline.update_marts(cfg, force=True)
    full = _snapshot(cfg.warehouse_path)
    for name in full:
        assert incremental[name] == full[name], name


def test_a_full_rebuild_in_parts_equals_one_in_one_piece(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past marts.REBUILD_PART_ATTEMPTS raw attempts a full rebuild derives the marts keyed by
    logical request part by part; every mart comes out as from one piece, late retries of
    requests, an attempt older than its request and a repeat included."""
    cfg = config.load(home)
    early = [
        rl_row(20_000, logical_request_id="r3", started_at="2026-03-04T09:00:00Z",
               ended_at="2026-03-04T09:00:05Z", status="error", error_class="rate_limit"),
        rl_row(7, logical_request_id="r7", started_at="2026-03-01T08:00:00Z",
               ended_at="2026-03-01T08:00:09Z"),
    ]  # fmt: skip
    (tmp_path / "a.jsonl").write_text(_rows(0, 60))
    (tmp_path / "b.jsonl").write_text(
        _rows(60, 40, late_for=range(0, 30, 3)) + "".join(json.dumps(r) + "\n" for r in early)
    )
    ingest(cfg, [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    monkeypatch.setattr(marts, "REBUILD_PART_ATTEMPTS", 10**9)
    assert pipeline.update_marts(cfg, force=True)
    whole = _snapshot(cfg.warehouse_path)
    monkeypatch.setattr(marts, "REBUILD_PART_ATTEMPTS", 9)  # 112 raw attempts: 13 parts
    with caplog.at_level(logging.DEBUG, logger="collectors.warehouse.marts"):
        assert pipeline.update_marts(cfg, force=True)
    assert "part 13 of 13 derived" in caplog.text
    parted = _snapshot(cfg.warehouse_path)
    assert sum(len(v) for v in parted.values()) > 200
    for name in whole:
        assert parted[name] == whole[name], name
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    left = con.execute("SELECT count(*) FROM derive_scope").fetchall()
    con.close()
    assert left == [(0,)]
