"""The generated ClickHouse SQL (``sql/clickhouse/``) applied on a database: tables, then the
scalar functions, then the views in the dependency order :mod:`collectors.warehouse.migrate`
uses, then the materialized marts built (``INSERT INTO <name> SELECT * FROM <name>__logic``, each
after the marts it reads). Reads files only: no sqlglot at runtime.

``client`` is a clickhouse-connect client (a server's, or
``clickhouse_connect.get_client(dsn="chdb:///path")`` for the embedded engine); while the SQL is
applied its ``database`` is the one named (unqualified names in a view bind to it), then restored.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, Protocol

from collectors.errors import WarehouseError
from collectors.warehouse.migrate import (
    LOGIC_SUFFIX,
    TABLE_LAYERS,
    VIEW_LAYERS,
    SqlFile,
    dependency_order,
    materialized_files,
    sql_files,
)

# What every query over the generated SQL needs (also written atop each generated file):
# LEFT JOIN fills NULL as DuckDB does, `sum(x) AS x` reads the column x inside the aggregate,
# naive timestamps are UTC as on every DuckDB connection, `tuple(v AS k)` is DuckDB's struct,
# an aggregate over no rows is NULL (max() of an empty config_metrics, as in DuckDB).
SETTINGS: dict[str, Any] = {
    "join_use_nulls": 1,
    "prefer_column_name_to_alias": 1,
    "session_timezone": "UTC",
    "enable_named_columns_in_function_tuple": 1,
    "aggregate_functions_null_for_empty": 1,
}
# An INSERT filling a mart partitioned by day spans as many partitions as the mart has days
# (ClickHouse refuses more than 100 in one insert block by default).
INSERT_SETTINGS: dict[str, Any] = {"max_partitions_per_insert_block": 0}
_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class Client(Protocol):
    database: str | None

    def command(
        self,
        cmd: str,
        parameters: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...


def generated_text(f: SqlFile) -> str:
    """The ClickHouse SQL generated from ``f`` (sql/clickhouse/<layer>/<name>.sql)."""
    path = resources.files("sql") / "clickhouse" / f.layer / f"{f.name}.sql"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise WarehouseError(
            f"sql/clickhouse/{f.layer}/{f.name}.sql is missing: "
            "run python -m collectors.warehouse.clickhouse.generate"
        ) from e


def statements(text: str) -> list[str]:
    """The statements of a generated file (each ends with ``;`` at the end of a line)."""
    body = "\n".join(x for x in text.splitlines() if not x.startswith("--"))
    return [s.strip() for s in _STATEMENT_END.split(body) if s.strip()]


def run_file(client: Client, f: SqlFile) -> None:
    """Every statement generated from ``f``, in the client's database."""
    for sql in statements(generated_text(f)):
        try:
            client.command(sql, settings=SETTINGS)
        except Exception as e:  # the driver's errors share no base class with chdb's
            raise WarehouseError(f"sql/clickhouse/{f.layer}/{f.name}.sql: {e}") from e


def apply(client: Client, database: str, retention_days: int | None = None) -> None:
    """Create the tables, functions and views of ``sql/`` in ``database`` (created if missing),
    set or remove the raw tables' retention (:func:`set_retention`), then build the
    materialized marts."""
    if not _IDENTIFIER.fullmatch(database):
        raise WarehouseError(f"{database!r} is not a ClickHouse database name (letters, digits, _)")
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    before, client.database = client.database, database
    try:
        files = sql_files()
        for f in files:
            if f.layer in TABLE_LAYERS or f.layer == "macros":
                run_file(client, f)
        for layer in VIEW_LAYERS:
            layer_files = [f for f in files if f.layer == layer]
            for f in dependency_order(layer_files, f"sql/{layer}: views"):
                run_file(client, f)
        set_retention(client, retention_days)
        build_marts(client)
    finally:
        client.database = before


# The raw tables a retention applies to, and the time each row ages from.
RETENTION = {"raw_attempts": "started_at", "raw_quarantine": "quarantined_at"}


def set_retention(client: Client, retention_days: int | None) -> None:
    """Keep raw rows ``retention_days`` days (a TTL ClickHouse applies as parts merge), or for
    ever when None (the TTL removed). The marts keep what they hold until a full rebuild."""
    if retention_days is not None and (
        isinstance(retention_days, bool)
        or not isinstance(retention_days, int)
        or retention_days < 1
    ):
        raise WarehouseError(
            f"retention_days must be a whole number of days >= 1, not {retention_days!r}"
        )
    for table, column in RETENTION.items():
        if retention_days is not None:
            sql = (
                f"ALTER TABLE {table} MODIFY TTL toDateTime({column}) "
                f"+ INTERVAL {int(retention_days)} DAY"
            )
        elif has_ttl(client, table):
            sql = f"ALTER TABLE {table} REMOVE TTL"
        else:
            continue  # REMOVE TTL on a table without one is an error
        try:
            client.command(sql, settings=SETTINGS)
        except Exception as e:  # as above
            raise WarehouseError(f"{table}: {e}") from e


def has_ttl(client: Client, table: str) -> bool:
    """The table of the client's database has a table TTL."""
    query = client.command(
        "SELECT create_table_query FROM system.tables "
        "WHERE database = currentDatabase() AND name = {table:String}",
        parameters={"table": table},
    )
    return " TTL " in str(query)


def build_marts(client: Client) -> None:
    """Rebuild every materialized mart of the client's database whole from its logic view, each
    after the marts it reads."""
    for f in materialized_files():
        for sql in (
            f"TRUNCATE TABLE {f.name}",
            f"INSERT INTO {f.name} SELECT * FROM {f.name}{LOGIC_SUFFIX}",
        ):
            try:
                client.command(sql, settings={**SETTINGS, **INSERT_SETTINGS})
            except Exception as e:  # as above
                raise WarehouseError(f"{f.name}: {e}") from e
