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
