"""sql/clickhouse/ is a fresh generation of sql/, every statement of it runs on ClickHouse
(chdb), the tables keep DuckDB's types and nullability, and the runtime needs no sqlglot."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.warehouse import migrate
from collectors.warehouse.clickhouse import apply, generate
from collectors.warehouse.migrate import LOGIC_SUFFIX, TABLE_LAYERS, VIEW_LAYERS, sql_files


def test_the_committed_files_are_a_fresh_generation() -> None:
    bad = generate.stale(generate.generate())
    assert bad == [], (
        f"stale in sql/clickhouse/: {[str(p.relative_to(generate.ROOT)) for p in bad]}; "
        f"regenerate with: {generate.COMMAND}"
    )


def test_check_lists_stale_files_and_a_run_rewrites_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sql" / "clickhouse"
    shutil.copytree(generate.OUT, out)
    monkeypatch.setattr(generate, "ROOT", tmp_path / "sql")
    monkeypatch.setattr(generate, "OUT", out)
    monkeypatch.setattr(generate, "OVERRIDES", out / "overrides")
    edited = out / "marts" / "attempts.sql"
    edited.write_text(edited.read_text("utf-8") + "-- edited by hand\n", "utf-8")
    (out / "marts" / "gone.sql").write_text("SELECT 1;\n", "utf-8")
    assert generate.main(["--check"]) == 1
    said = capsys.readouterr().out
    assert "stale: sql/clickhouse/marts/attempts.sql" in said
    assert "stale: sql/clickhouse/marts/gone.sql" in said
    assert generate.COMMAND in said
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    assert not (out / "marts" / "gone.sql").exists()
    assert "edited by hand" not in edited.read_text("utf-8")


def test_every_file_names_its_source_and_forbids_edits() -> None:
    for f in sql_files():
        text = apply.generated_text(f)
        assert text.startswith(f"-- generated from sql/{f.layer}/{f.name}.sql by `"), f.name
        assert "do not edit" in text.splitlines()[0]
        source = [x for x in f.text.splitlines()[:5] if x.startswith(("-- grain:", "-- key:"))]
        assert len(source) == 2, f.name  # the source states both
        assert text.splitlines()[1:3] == source, f.name  # and the generated file repeats them


@pytest.fixture(scope="module")
def empty(chdb_client: Callable[[str], Any]) -> Any:
    """Every generated statement applied on an empty database, the marts built (empty)."""
    client = chdb_client("generated_empty")
    apply.apply(client, "generated_empty")
    return client


def test_every_generated_statement_is_accepted_by_chdb(empty: Any) -> None:
    names = {r[0] for r in empty.query("SELECT name FROM system.tables "
                                       "WHERE database = currentDatabase()").result_rows}  # fmt: skip
    want = set()
    for f in sql_files():
        if f.layer in TABLE_LAYERS:
            want.add(f.name)
        elif f.layer in VIEW_LAYERS:
            want |= {f.name, f"{f.name}{LOGIC_SUFFIX}"} if f.materialized else {f.name}
    assert want - names == set()
    for f in sql_files():
        if f.layer in VIEW_LAYERS and f.macro_params is None:
            empty.query(f"SELECT * FROM {f.name} LIMIT 0", settings=apply.SETTINGS)


def _duck_columns() -> dict[str, dict[str, tuple[str, bool]]]:
    con = duckdb.connect()
    migrate.apply(con, ":memory:")
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, dtype, nullable in con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE NOT internal AND table_name IN (SELECT table_name FROM duckdb_tables())"
    ).fetchall():
        out.setdefault(table, {})[column] = (dtype, nullable)
    return out


def test_tables_keep_duckdb_types_money_and_nullability(empty: Any) -> None:
    duck = _duck_columns()
    rows = empty.query(
        "SELECT table, name, type FROM system.columns WHERE database = currentDatabase()"
    ).result_rows
    ch = {(t, c): ty for t, c, ty in rows}
    checked = 0
    for f in sql_files():
        if f.layer not in TABLE_LAYERS:
            continue
        for column, (dtype, nullable) in duck[f.name].items():
            ty = ch[(f.name, column)]
            assert ("Nullable(" in ty) == nullable, f"{f.name}.{column}: {ty} for {dtype}"
            if dtype.startswith("DECIMAL"):
                p, s = dtype[8:-1].split(",")
                assert f"Decimal({p}, {s})" in ty, f"{f.name}.{column}: {ty}"
                checked += 1
    assert checked >= 20  # prices, costs, bills, alerts: money everywhere


def test_raw_attempts_is_partitioned_by_month_and_ordered_for_the_marts(empty: Any) -> None:
    engine, partition, sorting = empty.query(
        "SELECT engine, partition_key, sorting_key FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'raw_attempts'"
    ).result_rows[0]
    assert engine == "ReplacingMergeTree"
    assert partition == "toYYYYMM(started_at)"
    assert sorting == "logical_request_id, attempt_id, started_at"
    types = dict(empty.query("SELECT name, type FROM system.columns WHERE "
                             "database = currentDatabase() AND table = 'raw_attempts'").result_rows)  # fmt: skip
    assert types["provider"] == "LowCardinality(Nullable(String))"
    assert types["status"] == "LowCardinality(String)"
    assert types["started_at"] == "DateTime64(6, 'UTC')"


def test_materialized_marts_are_tables_ordered_by_their_key(empty: Any) -> None:
    engines = {n: (e, k) for n, e, k in empty.query(
        "SELECT name, engine, sorting_key FROM system.tables WHERE database = currentDatabase()"
    ).result_rows}  # fmt: skip
    assert engines["attempts"] == ("MergeTree", "attempt_id")
    assert engines["logical_requests"] == ("MergeTree", "logical_request_id")
    assert engines["attempts__logic"][0] == "View"
    assert engines["price_versions"] == ("ReplacingMergeTree", "version_id")


def test_the_runtime_reads_files_and_needs_no_sqlglot() -> None:
    code = (
        "import sys; import collectors.warehouse.clickhouse.apply as a; "
        "assert 'sqlglot' not in sys.modules, 'sqlglot imported'; "
        "from collectors.warehouse.migrate import sql_files; "
        "print(sum(len(a.statements(a.generated_text(f))) for f in sql_files()))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) > len(sql_files())


def test_an_override_is_used_verbatim_under_a_header_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = tmp_path / "overrides"
    (overrides / "marts").mkdir(parents=True)
    body = "-- why: a test\nCREATE OR REPLACE VIEW job_run_log AS SELECT 1 AS job;\n"
    (overrides / "marts" / "job_run_log.sql").write_text(body, "utf-8")
    monkeypatch.setattr(generate, "OVERRIDES", overrides)
    files = generate.generate()
    text = files[generate.OUT / "marts" / "job_run_log.sql"]
    assert text.startswith(
        "-- copied from the override sql/clickhouse/overrides/marts/job_run_log.sql by `"
    )
    assert text.endswith(body)
    assert generate.stale(files) == [generate.OUT / "marts" / "job_run_log.sql"]
