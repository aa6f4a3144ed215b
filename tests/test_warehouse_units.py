"""The warehouse package's units of work: transactions that always roll back and never mask
their cause, the ledger's interrupted-run marking, caches recreated on a schema change, and one
dependency sort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from collectors.config import load
from collectors.errors import WarehouseError
from collectors.warehouse import Warehouse, ledger, transaction
from collectors.warehouse.migrate import SqlFile, dependency_order, sql_files


def _table(con: duckdb.DuckDBPyConnection) -> list[tuple[int]]:
    return con.execute("SELECT x FROM t ORDER BY x").fetchall()


def test_a_transaction_commits_when_its_block_ends(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
        assert _table(con) == [(1,)]


@pytest.mark.parametrize("raised", [ValueError("boom"), KeyboardInterrupt()])
def test_a_transaction_rolls_back_on_anything_raised(tmp_path: Path, raised: BaseException) -> None:
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(type(raised)), transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise raised
        assert _table(con) == []
        with transaction(con):  # and the connection is usable again
            con.execute("INSERT INTO t VALUES (2)")
        assert _table(con) == [(2,)]


def test_a_failing_rollback_never_masks_the_cause(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(OSError, match="No space left on device"), transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            con.execute("ROLLBACK")  # the transaction is gone, as after a failed COMMIT
            raise OSError(28, "No space left on device")
        assert _table(con) == []


def test_a_running_load_of_a_dead_process_is_marked_interrupted(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.migrate()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with wh.connect() as con:
        ledger.start_load(con, "mine", "run", "litellm", "a.jsonl")  # this process: alive
        ledger.start_load(con, "theirs", "run", "litellm", "b.jsonl")
        con.execute("UPDATE loads SET pid = ? WHERE load_id = 'theirs'", [dead.pid])
        assert ledger.mark_interrupted_loads(con) == 1
        got = dict(con.execute("SELECT load_id, status FROM loads").fetchall())
    assert got == {"mine": "running", "theirs": "interrupted"}
    assert ledger.alive(os.getpid()) and not ledger.alive(dead.pid)


def test_job_runs_record_start_finish_and_interruption(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.migrate()
    with wh.connect() as con:
        started = ledger.start_job(con, "ingest")
        ledger.finish_job(con, "ingest", started, "ok", "x" * 900)
        con.execute(
            "INSERT INTO job_runs (job, started_at, status, detail) "
            "VALUES ('prices', now()::TIMESTAMP, 'running', 'pid 999999999')"
        )
        assert ledger.mark_interrupted_jobs(con) == 1
        rows = dict(con.execute("SELECT job, status FROM job_runs").fetchall())
        detail = con.execute("SELECT detail FROM job_runs WHERE job = 'ingest'").fetchone()
        assert set(ledger.last_ok_jobs(con)) == {"ingest"}
    assert rows == {"ingest": "ok", "prices": "interrupted"}
    assert detail is not None and len(detail[0]) == ledger.DETAIL_CHARS


def test_a_cursor_never_moves_backwards_unless_the_file_was_replaced(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.migrate()
    with wh.connect() as con:
        ledger.advance_cursor(con, "main", "f", "litellm", ledger.Cursor(100, 10, "h1", 100))
        ledger.advance_cursor(con, "main", "f", "litellm", ledger.Cursor(50, 5, "h1", 100))
        assert ledger.read_cursor(con, "f") == ledger.Cursor(100, 10, "h1", 100)
        ledger.advance_cursor(con, "main", "f", "litellm", ledger.Cursor(50, 5, "h2", 50))
        assert ledger.read_cursor(con, "f") == ledger.Cursor(50, 5, "h2", 50)
        assert ledger.read_cursor(con, "other") == ledger.Cursor()


def test_only_cache_tables_are_recreated_on_a_schema_change(tmp_path: Path) -> None:
    recreated = {f.name for f in sql_files() if f.recreated}
    assert recreated == {
        "derived_state",
        "derived_matches",
        "derive_scope",
        "derive_scope_days",
        "model_matches",
    }
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.migrate()
    with wh.connect() as con:
        con.execute("INSERT INTO derive_scope VALUES ('r1')")
        ledger.start_load(con, "kept", "run", "litellm", "a.jsonl")
    assert wh.migrate(force=True)
    with wh.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM derive_scope").fetchall() == [(0,)]
        assert con.execute("SELECT load_id FROM loads").fetchall() == [("kept",)]


def test_one_dependency_sort_orders_files_and_names_a_cycle() -> None:
    a = SqlFile("marts", "a", "SELECT * FROM b JOIN c USING (k)")
    b = SqlFile("marts", "b", "SELECT * FROM c")
    c = SqlFile("marts", "c", "SELECT 1 AS k")
    assert [f.name for f in dependency_order([a, b, c], "marts")] == ["c", "b", "a"]
    loop = SqlFile("marts", "c", "SELECT * FROM a")
    with pytest.raises(WarehouseError, match="marts reference each other in a cycle: a, b, c"):
        dependency_order([a, b, loop], "marts")


def test_the_warehouse_of_a_config_is_its_path_and_lock_timeout(tmp_path: Path) -> None:
    (tmp_path / "routeledger.toml").write_text(
        "[warehouse]\nlock_timeout_seconds = 7\n", encoding="utf-8"
    )
    cfg = load(tmp_path)
    wh = Warehouse.from_config(cfg)
    assert wh.path == cfg.warehouse_path and wh.lock_timeout == 7.0


def test_an_io_error_of_another_file_is_not_blamed_on_the_warehouse(tmp_path: Path) -> None:
    """Only the warehouse file's own I/O failures (and a full disk) become a WarehouseError; a
    log file DuckDB cannot read in the same unit of work keeps its own error."""
    with pytest.raises(duckdb.IOException), Warehouse(tmp_path / "w.duckdb").connect() as con:
        con.execute("SELECT * FROM read_json(?)", [str(tmp_path / "missing.jsonl")])
    with pytest.raises(WarehouseError, match=r"disk is full \(No space left on device\)"):
        with Warehouse(tmp_path / "w.duckdb").connect():
            raise duckdb.IOException("IO Error: could not write: No space left on device")


def _plan(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    return "\n".join(str(r[-1]) for r in con.execute(f"EXPLAIN {sql}").fetchall())


def test_a_constant_in_list_is_evaluated_in_place_not_joined() -> None:
    """DuckDB 2.0 plans ``x IN (constants)`` as a MARK join, a pipeline of its own; the
    normaliser has a dozen such lists per batch, and their scheduling made a one-line batch 9×
    slower. Every RouteLedger connection (``configure``) keeps them in place, with the same
    answers, NULL included."""
    from collectors.ingest.batch import mem_connection
    from collectors.warehouse.session import configure

    sql = (
        "SELECT x, lower(x) IN ('true', '1', 'yes', 't', 'y', 'hit') AS b "
        "FROM (VALUES ('TRUE'), ('no'), (NULL), ('hit')) t(x)"
    )
    bare = duckdb.connect()
    assert "MARK" in _plan(bare, sql)  # what the setting is for: remove it when this fails
    configured = duckdb.connect()
    configure(configured)
    for con in (configured, mem_connection()):
        assert "MARK" not in _plan(con, sql)
        assert con.execute(sql).fetchall() == bare.execute(sql).fetchall()
