"""The cluster DDL (collectors/warehouse/clickhouse/cluster.py): every statement parses in
ClickHouse, the big tables are sharded by logical request with a Keeper path per shard, the rest
replicated to every node, and every relation of sql/ exists in both the readers' and the build
database. (A cluster with Keeper cannot run here: the statements are parsed, not executed.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from collectors.warehouse.clickhouse import cluster
from collectors.warehouse.migrate import TABLE_LAYERS, VIEW_LAYERS, sql_files

DDL = cluster.ddl("prod", "rl")


def test_every_statement_parses(chdb_client: Callable[[str], Any]) -> None:
    client = chdb_client("cluster_parse")
    for stmt in DDL:
        formatted = client.query(
            "SELECT formatQuery({q:String})", parameters={"q": stmt}
        ).result_rows[0][0]
        assert formatted, stmt[:80]
    with pytest.raises(Exception, match="Syntax error"):  # the check can fail
        client.query("SELECT formatQuery({q:String})", parameters={"q": DDL[5] + " (("})


def test_sharded_tables_have_a_keeper_path_per_shard_and_a_distributed_table() -> None:
    text = "\n".join(DDL)
    for name in cluster.SHARDED:
        assert f"CREATE TABLE IF NOT EXISTS rl.{name}_shard ON CLUSTER 'prod'" in text
        assert f"'/clickhouse/tables/{{shard}}/rl/{name}', '{{replica}}'" in text
        assert (
            f"ENGINE = Distributed('prod', rl, {name}_shard, cityHash64(logical_request_id))"
            in text
        )
        assert f"VIEW rl_build.{name} ON CLUSTER 'prod' AS SELECT * FROM rl.{name}_shard" in text


def test_every_other_table_is_replicated_to_every_node_once() -> None:
    paths = re.findall(r"Replicated\w*MergeTree\('([^']+)'", "\n".join(DDL))
    assert len(paths) == len(set(paths))  # one Keeper path per table
    tables = {f.name for f in sql_files() if f.layer in TABLE_LAYERS}
    tables |= {f.name for f in sql_files() if f.materialized}
    for name in tables - set(cluster.SHARDED):
        assert f"/clickhouse/tables/all/rl/{name}" in paths, name
    assert not any("non_replicated_deduplication_window" in s for s in DDL)
    assert not any(re.search(r"ENGINE = (Replacing)?MergeTree\b", s) for s in DDL)


def test_every_view_is_in_the_readers_and_the_build_database() -> None:
    created: dict[str, set[str]] = {"rl": set(), "rl_build": set()}
    current = None
    for stmt in DDL:
        if stmt.startswith("USE "):
            current = stmt.split()[1]
        elif m := re.match(r"CREATE OR REPLACE VIEW (\w+) ON CLUSTER", stmt):
            assert current is not None
            created[current].add(m.group(1))
    views = {f.name for f in sql_files() if f.layer in VIEW_LAYERS and not f.materialized}
    logic = {f"{f.name}__logic" for f in sql_files() if f.materialized}
    assert views | logic <= created["rl"]
    assert views | logic <= created["rl_build"]


def test_names_must_be_identifiers(capsys: pytest.CaptureFixture[str]) -> None:
    assert cluster.main(["--cluster", "prod'; DROP DATABASE x; --"]) == 2
    assert "identifiers" in capsys.readouterr().err
    assert cluster.main(["--cluster", "prod", "--database", "rl"]) == 0
    assert capsys.readouterr().out.count(";\n") == len(DDL)
