"""The writers' door on ClickHouse (``clickhouse/home.py``): a unit of work's DuckDB SQL runs on a
Mirror and what changed is written back: new rows as appends, other changes as a checked swap;
what another process changed meanwhile is never overwritten; a rollback writes nothing; the big
relations are read on ClickHouse, never copied."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import main as cli_main
from collectors import config
from collectors.errors import WarehouseBusy, WarehouseError
from collectors.warehouse import Warehouse, transaction
from collectors.warehouse.clickhouse.home import SWAP, ClickHouseWarehouse, relations

T0 = datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def wh(chdb_path: Path, request: pytest.FixtureRequest) -> Iterator[ClickHouseWarehouse]:
    name = "mirror_" + request.node.name.split("[")[0][-40:].replace("-", "_")
    w = ClickHouseWarehouse(f"chdb://{chdb_path}?database={name}")
    assert w.migrate() is True
    assert w.migrate() is False  # this schema is applied already
    yield w


def _rows(w: ClickHouseWarehouse, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in w.client().query(sql).result_rows]


def _run(w: ClickHouseWarehouse, job: str, status: str = "ok") -> None:
    with w.connect() as con, transaction(con):
        con.execute("INSERT INTO job_runs VALUES (?, ?, ?, ?, NULL)", [job, T0, T0, status])


def test_new_rows_are_appended_and_every_unit_of_work_sees_the_last(
    wh: ClickHouseWarehouse,
) -> None:
    _run(wh, "prices")
    _run(wh, "report")
    assert _rows(wh, "SELECT job FROM job_runs ORDER BY job") == [("prices",), ("report",)]
    with wh.connect() as con:  # the rows written before are what the next one reads
        assert con.execute("SELECT count(*) FROM job_runs").fetchone() == (2,)
    # two writers appending at once: both land, neither is a conflict
    a, b = wh.connect(), wh.connect()
    con_a, con_b = a.__enter__(), b.__enter__()
    con_a.execute("INSERT INTO job_runs VALUES ('a', ?, ?, 'ok', NULL)", [T0, T0])
    con_b.execute("INSERT INTO job_runs VALUES ('b', ?, ?, 'ok', NULL)", [T0, T0])
    a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    assert _rows(wh, "SELECT job FROM job_runs ORDER BY job") == [
        ("a",),
        ("b",),
        ("prices",),
        ("report",),
    ]


def test_a_change_is_swapped_in_whole_and_the_swap_table_is_gone(wh: ClickHouseWarehouse) -> None:
    _run(wh, "prices", "running")
    _run(wh, "report", "running")
    with wh.connect() as con, transaction(con):
        con.execute("UPDATE job_runs SET status = 'ok', detail = 'x' WHERE job = 'prices'")
        con.execute("DELETE FROM job_runs WHERE job = 'report'")
    assert _rows(wh, "SELECT job, status, detail FROM job_runs") == [("prices", "ok", "x")]
    assert _rows(wh, f"SELECT count() FROM system.tables WHERE name LIKE '%{SWAP}'") == [(0,)]


def test_a_table_another_process_changed_meanwhile_is_not_overwritten(
    wh: ClickHouseWarehouse,
) -> None:
    _run(wh, "prices", "running")
    mine = wh.connect()
    con = mine.__enter__()
    with transaction(con):  # copies the tables at BEGIN
        con.execute("UPDATE job_runs SET status = 'failed' WHERE job = 'prices'")
    # another process (here a thread with its own client) changes the same table first
    done = threading.Event()

    def other() -> None:
        with wh.connect() as c2, transaction(c2):
            c2.execute("UPDATE job_runs SET status = 'ok' WHERE job = 'prices'")
        done.set()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert done.is_set()
    with pytest.raises(WarehouseBusy, match="changed by another RouteLedger process"):
        mine.__exit__(None, None, None)
    assert _rows(wh, "SELECT status FROM job_runs") == [("ok",)]


def test_a_rollback_writes_nothing_and_what_committed_before_a_failure_stays(
    wh: ClickHouseWarehouse,
) -> None:
    with pytest.raises(RuntimeError), wh.connect() as con, transaction(con):
        con.execute("INSERT INTO job_runs VALUES ('lost', ?, ?, 'ok', NULL)", [T0, T0])
        raise RuntimeError("killed")
    assert _rows(wh, "SELECT count() FROM job_runs") == [(0,)]
    with pytest.raises(RuntimeError), wh.connect() as con:
        with transaction(con):
            con.execute("INSERT INTO job_runs VALUES ('kept', ?, ?, 'ok', NULL)", [T0, T0])
        raise RuntimeError("after the commit")
    assert _rows(wh, "SELECT job FROM job_runs") == [("kept",)]


def test_constraints_hold_as_on_duckdb(wh: ClickHouseWarehouse) -> None:
    row = ["r1", "openrouter", "openai", "gpt-4o", "price_jump", "pending", T0, "f1", "x 1 -> 9"]
    sql = "INSERT INTO price_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
    with wh.connect() as con, transaction(con):
        con.execute(sql, row)
    with pytest.raises(Exception, match="[Cc]onstraint|[Dd]uplicate"), wh.connect() as con:
        with transaction(con):
            con.execute(sql, row)  # the mirror holds the table: its primary key holds
    assert _rows(wh, "SELECT count() FROM price_reviews") == [(1,)]


def test_the_big_relations_are_read_on_clickhouse_and_never_copied(
    wh: ClickHouseWarehouse,
) -> None:
    small, remote = relations()
    assert {"raw_attempts", "raw_quarantine", "attempts", "logical_requests"} <= remote
    assert "raw_attempts" not in small and "price_versions" in small
    wh.client().command(
        "INSERT INTO raw_attempts (attempt_id, logical_request_id, started_at, provider, "
        "served_model, status, source, source_file, source_line, load_id, ingested_at) VALUES "
        "('a1', 'r1', '2026-11-02 09:00:00', 'openai', 'gpt-4o', 'success', 'litellm', 'f', 1, "
        "'l1', '2026-11-02 10:00:00')"
    )
    with wh.connect() as con, transaction(con):
        got = con.execute("SELECT DISTINCT provider, served_model FROM raw_attempts").fetchall()
        assert got == [("openai", "gpt-4o")]
        assert con.con.execute("SELECT count(*) FROM raw_attempts").fetchone() == (0,)
        con.execute("INSERT INTO job_runs VALUES ('j', ?, ?, 'ok', NULL)", [T0, T0])
        with pytest.raises(WarehouseError, match="cannot read"):
            con.execute(
                "INSERT INTO job_runs SELECT 'x', started_at, started_at, 'ok', NULL "
                "FROM raw_attempts"
            )
    # a row a writer adds to raw_quarantine (a bill's bad line) is appended once
    with wh.connect() as con, transaction(con):
        con.execute(
            "INSERT INTO raw_quarantine VALUES ('i1', 'bills:x', 'f.csv', 3, 'bad_number', "
            "NULL, 'x', ?)",
            [T0],
        )
    assert _rows(wh, "SELECT source_line, reason FROM raw_quarantine") == [(3, "bad_number")]


def test_the_setting_builds_the_clickhouse_warehouse_and_bad_values_are_one_line(
    tmp_path: Path, chdb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    toml = home / "routeledger.toml"
    toml.write_text(
        f'[warehouse]\nbackend = "clickhouse"\nurl = "chdb://{chdb_path}?database=cfg_home"\n'
        "retention_days = 30\n",
        encoding="utf-8",
    )
    wh = Warehouse.from_config(config.load(home))
    assert isinstance(wh, ClickHouseWarehouse) and wh.retention_days == 30
    assert not wh.exists()
    with pytest.raises(WarehouseError, match="no warehouse yet"), wh.connect(read_only=True):
        pass
    result = CliRunner().invoke(cli_main, ["--home", str(home), "stats", "--json"])
    assert result.exit_code == 0, result.output  # as on DuckDB: the schema applied, no rows
    assert wh.exists() and '"tasks": []' in result.output
    # a server whose password variable is not set: one line naming the variable
    toml.write_text(
        '[warehouse]\nbackend = "clickhouse"\nurl = "http://rl@127.0.0.1:9/routeledger"\n'
        'password_env = "RL_TEST_CH_PASSWORD"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("RL_TEST_CH_PASSWORD", raising=False)
    result = CliRunner().invoke(cli_main, ["--home", str(home), "ingest", str(toml)])
    assert result.exit_code != 0
    assert "RL_TEST_CH_PASSWORD" in result.output and "Traceback" not in result.output
    # the backend and the URL are checked when the configuration is read
    toml.write_text('[warehouse]\nbackend = "postgres"\n', encoding="utf-8")
    with pytest.raises(Exception, match="duckdb or clickhouse"):
        config.load(home)
    toml.write_text('[warehouse]\nbackend = "clickhouse"\nurl = "ftp://x"\n', encoding="utf-8")
    with pytest.raises(Exception, match="chdb:///abs/path"):
        config.load(home)


def test_a_changed_retention_setting_is_applied_on_the_next_run(wh: ClickHouseWarehouse) -> None:
    assert wh.retention() is None
    wh.retention_days = 30
    assert wh.migrate() is False  # the schema is there: only the TTL changes
    assert wh.retention() == 30
    wh.retention_days = 7
    wh.migrate()
    assert wh.retention() == 7
    wh.retention_days = None
    wh.migrate()
    assert wh.retention() is None
