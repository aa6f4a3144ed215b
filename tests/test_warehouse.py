from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.errors import WarehouseBusy
from collectors.warehouse import Warehouse
from collectors.warehouse.migrate import TABLE_LAYERS, schema_hash, sql_files


def test_migrate_is_idempotent_and_records_the_version(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    assert wh.migrate() is True
    assert wh.migrate() is False
    with wh.connect(read_only=True) as con:
        versions = con.execute("SELECT version FROM schema_version").fetchall()
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert versions == [(schema_hash(),)]
    assert {"raw_attempts", "raw_quarantine", "loads", "file_cursors"} <= tables


def test_every_view_file_is_named_by_its_relation_and_has_grain_and_key() -> None:
    for f in sql_files():
        if f.layer == "macros":
            assert f"CREATE OR REPLACE MACRO {f.name}(" in f.text, f.name
            continue
        if f.layer in TABLE_LAYERS:
            assert (
                f"CREATE TABLE IF NOT EXISTS {f.name} " in f.text.replace("\n", " ")
                or f"CREATE TABLE IF NOT EXISTS {f.name}(" in f.text
            )
        head = f.text.splitlines()[:5]
        assert any(line.startswith("-- grain:") for line in head), f.name
        assert any(line.startswith("-- key:") for line in head), f.name


def test_a_held_lock_is_waited_for_then_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).migrate()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(WarehouseBusy) as e:
            with Warehouse(path, lock_timeout=1.5).connect(read_only=True):
                pass
        waited = time.monotonic() - t0
        assert (
            1.0 <= waited < 30
        )  # bounded: the budget plus one backoff step, even on a loaded machine
        assert "\n" not in str(e.value) and "lock_timeout_seconds" in str(e.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_released_in_time_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).migrate()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(1); c.close(); time.sleep(5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Warehouse(path, lock_timeout=20).connect(read_only=True) as con:
            assert con.execute("SELECT count(*) FROM raw_attempts").fetchall() == [(0,)]
    finally:
        holder.kill()
        holder.wait()


def test_a_mart_that_changed_kind_migrates(tmp_path: Path) -> None:
    """An upgrade where a view became a materialized table (and back) must not fail."""
    import duckdb

    path = tmp_path / "w.duckdb"
    wh = Warehouse(path)
    wh.migrate()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE cost_discrepancies")
    con.execute("CREATE VIEW cost_discrepancies AS SELECT 1 AS x")  # as an older release had it
    con.execute("DROP VIEW price_changes")
    con.execute("CREATE TABLE price_changes AS SELECT 1 AS x")
    con.close()
    assert wh.migrate(force=True)
    with wh.connect(read_only=True) as c:
        kinds = dict(
            c.execute(
                "SELECT table_name, 'table' FROM duckdb_tables() WHERE table_name IN ('cost_discrepancies', 'price_changes') "
                "UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE view_name IN ('cost_discrepancies', 'price_changes')"
            ).fetchall()
        )
    assert kinds == {"cost_discrepancies": "table", "price_changes": "view"}


def test_a_reader_waits_for_a_writer_in_the_same_process(tmp_path: Path) -> None:
    """DuckDB refuses a read-only connection while a read-write one is open in the same process
    ("different configuration"); the dashboard and a job in one process must wait, not fail."""
    import threading

    wh = Warehouse(tmp_path / "w.duckdb", lock_timeout=20)
    wh.migrate()
    held = threading.Event()

    def writer() -> None:
        with wh.connect() as con:
            held.set()
            time.sleep(1.0)
            con.execute("SELECT 1").fetchall()

    t = threading.Thread(target=writer)
    t.start()
    held.wait(10)
    with wh.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_attempts").fetchall() == [(0,)]
    t.join()


# raw_attempts as the releases before agent_name and conversation_id created it
RAW_ATTEMPTS_BEFORE_AGENT_NAME = """
CREATE TABLE raw_attempts (
    load_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
    source_line BIGINT NOT NULL, attempt_id VARCHAR NOT NULL,
    logical_request_id VARCHAR NOT NULL, attempt_index INTEGER,
    started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP NOT NULL, ttft_ms DOUBLE,
    latency_ms DOUBLE, provider VARCHAR, requested_model VARCHAR,
    served_model VARCHAR NOT NULL, deployment_id VARCHAR, base_model VARCHAR, task VARCHAR,
    team VARCHAR, user_id VARCHAR, key_hash VARCHAR, key_alias VARCHAR, route VARCHAR,
    input_tokens BIGINT, cached_input_tokens BIGINT, cache_write_tokens BIGINT,
    cache_write_1h_tokens BIGINT, output_tokens BIGINT, reasoning_tokens BIGINT,
    input_includes_cached BOOLEAN NOT NULL, output_includes_reasoning BOOLEAN NOT NULL,
    status VARCHAR NOT NULL, error_class VARCHAR, error_type VARCHAR, http_status INTEGER,
    gateway_cache_hit BOOLEAN NOT NULL, streamed BOOLEAN, reported_cost_usd DECIMAL(18, 10),
    validation_passed BOOLEAN, quality_score DOUBLE, ingested_at TIMESTAMP NOT NULL
)
"""


def test_an_older_raw_attempts_gains_agent_name_and_conversation_id_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    """A warehouse from before the two columns: the next migration adds them (the table files
    run again when the SQL changes), its rows stay, the marts carry the columns."""
    import duckdb

    from collectors.warehouse import configure
    from collectors.warehouse.marts import rebuild_materialized

    path = tmp_path / "w.duckdb"
    wh = Warehouse(path)
    wh.migrate()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE raw_attempts")
        con.execute(RAW_ATTEMPTS_BEFORE_AGENT_NAME)
        con.execute(
            "INSERT INTO raw_attempts BY NAME SELECT 'l1' AS load_id, 'routeledger' AS source, "
            "'a.jsonl' AS source_file, 1 AS source_line, 'rl:a1' AS attempt_id, "
            "'r1' AS logical_request_id, TIMESTAMP '2026-10-01 10:00:00' AS started_at, "
            "TIMESTAMP '2026-10-01 10:00:01' AS ended_at, 'gpt-4o-mini' AS served_model, "
            "true AS input_includes_cached, true AS output_includes_reasoning, "
            "'success' AS status, false AS gateway_cache_hit, 'growth' AS team, "
            "TIMESTAMP '2026-10-01 10:00:02' AS ingested_at"
        )
        con.execute("UPDATE schema_version SET version = 'the release before'")
    assert wh.migrate() is True
    assert wh.migrate() is False and wh.migrate(force=True)  # ADD COLUMN IF NOT EXISTS: again
    fresh = Warehouse(tmp_path / "fresh.duckdb")
    fresh.migrate()
    with fresh.connect(read_only=True) as con:
        new_layout = con.execute("DESCRIBE raw_attempts").fetchall()
    with duckdb.connect(str(path)) as con:
        configure(con)
        assert con.execute("DESCRIBE raw_attempts").fetchall() == new_layout  # same order too
        assert [c[0] for c in new_layout[-2:]] == ["agent_name", "conversation_id"]
        assert con.execute(
            "SELECT attempt_id, team, agent_name, conversation_id FROM raw_attempts"
        ).fetchall() == [("rl:a1", "growth", None, None)]
        con.execute(
            "INSERT INTO raw_attempts SELECT * REPLACE ('rl:a2' AS attempt_id, "
            "'r2' AS logical_request_id, 'planner' AS agent_name, 'c-1' AS conversation_id) "
            "FROM raw_attempts"
        )
        rebuild_materialized(con)
        sql = "SELECT logical_request_id, team, agent_name, conversation_id FROM {} ORDER BY 1"
        want = [("r1", "growth", None, None), ("r2", "growth", "planner", "c-1")]
        assert con.execute(sql.format("attempts")).fetchall() == want
        assert con.execute(sql.format("logical_requests")).fetchall() == want
