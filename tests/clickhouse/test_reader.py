"""The Reader's binding, types, cache and errors, on the session's chdb (a database of its own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from collectors.errors import WarehouseError
from collectors.warehouse.clickhouse.reader import Reader

HOSTILE = [
    "o'brien",
    "back\\slash",
    "%s and %(x)s",
    "{x:String}",
    "'; DROP TABLE names; --",
    "\\'; SELECT 1; --",
    "line\nbreak",
    "",
]


@pytest.fixture(scope="module")
def reader(chdb_client: Callable[[str], Any]) -> Reader:
    client = chdb_client("reader_test")
    client.command("DROP TABLE IF EXISTS names")
    client.command("CREATE TABLE names (id Int64, name String) ENGINE = MergeTree ORDER BY id")
    client.insert("names", [[i, v] for i, v in enumerate(HOSTILE)], column_names=["id", "name"])
    return Reader(client)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_string_is_a_value_never_sql(reader: Reader, value: str) -> None:
    got = reader.execute("SELECT id FROM names WHERE name = ?", [value]).fetchall()
    assert got == [(HOSTILE.index(value),)]
    named = reader.execute("SELECT $v AS v, count(*) AS n FROM names WHERE name = $v", {"v": value})
    assert named.fetchall() == [(value, 1)]
    assert reader.execute("SELECT count(*) FROM names").fetchall() == [(len(HOSTILE),)]


def test_a_question_mark_in_text_or_a_comment_is_not_a_parameter(reader: Reader) -> None:
    sql = "SELECT '?' AS q, ? AS v -- what ?\n, 'a%' LIKE 'a%%' AS l"
    assert reader.execute(sql, [7]).fetchall() == [("?", 7, True)]


@pytest.mark.parametrize(
    ("value", "expected_type"),
    [
        ("text", "String"),
        (42, "UInt8"),
        (-(2**40), "Int64"),
        (0.1, "Float64"),
        (Decimal("12.345000000001"), "Decimal(38, 12)"),
        (True, "Bool"),
        (date(2026, 10, 20), "Date32"),
        (datetime(2026, 10, 20, 13, 5, 7, 123456), "DateTime64(6, 'UTC')"),
        (["a", "b"], "Array(String)"),
        ([1, 2], "Array(UInt8)"),
    ],
)
def test_each_type_binds_as_itself(reader: Reader, value: Any, expected_type: str) -> None:
    cur = reader.execute("SELECT ? AS v, toTypeName(?) AS t", [value, value])
    got, kind = cur.fetchone() or (None, None)
    assert kind == expected_type
    assert got == value and type(got) is type(value)


def test_null_none_and_an_aware_datetime(reader: Reader) -> None:
    assert reader.execute("SELECT ? IS NULL", [None]).fetchall() == [(True,)]
    aware = datetime(2026, 10, 20, 15, 0, tzinfo=UTC).astimezone()
    got = reader.execute("SELECT ?", [aware]).fetchall()[0][0]
    assert got == datetime(2026, 10, 20, 15, 0) and got.tzinfo is None  # naive UTC, as DuckDB


def test_a_null_list_decides_its_branch_before_clickhouse_types_it(reader: Reader) -> None:
    sql = "SELECT count(*) FROM names WHERE ?::VARCHAR[] IS NULL OR list_contains(?, name)"
    assert reader.execute(sql, [None, None]).fetchall() == [(len(HOSTILE),)]
    assert reader.execute(sql, [["o'brien", "x"], ["o'brien", "x"]]).fetchall() == [(1,)]


def test_wrong_parameters_are_one_line_errors(reader: Reader) -> None:
    with pytest.raises(WarehouseError, match=r"2 \? placeholders, 1 parameters"):
        reader.execute("SELECT ?, ?", [1])
    with pytest.raises(WarehouseError, match="no value for the parameter"):
        reader.execute("SELECT $a", {"b": 1})
    with pytest.raises(WarehouseError, match="cannot bind a object"):
        reader.execute("SELECT ?", [object()])


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO names VALUES (99, 'x')",
        "UPDATE names SET name = 'x' WHERE id = 1",
        "DELETE FROM names WHERE id = 1",
        "DROP TABLE names",
    ],
)
def test_the_reader_never_writes(reader: Reader, sql: str) -> None:
    with pytest.raises(WarehouseError, match="the reader runs queries only"):
        reader.execute(sql)
    assert reader.execute("SELECT count(*) FROM names").fetchall() == [(len(HOSTILE),)]


def test_no_rows_still_name_and_type_the_columns(reader: Reader) -> None:
    cur = reader.execute("SELECT id, name, CAST(id AS DECIMAL(18, 6)) AS m FROM names WHERE id < 0")
    assert [d[0] for d in cur.description] == ["id", "name", "m"]
    assert cur.fetchall() == [] and cur.fetchone() is None
    df = reader.execute("SELECT id, name FROM names WHERE id < 0").df()
    assert list(df.columns) == ["id", "name"] and [str(t) for t in df.dtypes] == ["int64", "object"]


def test_a_clickhouse_error_is_one_line_naming_the_query(reader: Reader) -> None:
    with pytest.raises(WarehouseError) as e:
        reader.execute("SELECT no_such_column\nFROM names WHERE id = ?", [1])
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("query 'SELECT no_such_column FROM names WHERE id = ?'")
    assert "no_such_column" in message.split(":", 1)[1]


def test_the_cache_is_bounded_and_reused(chdb_client: Callable[[str], Any]) -> None:
    reader = Reader(chdb_client("reader_test"), cache_size=3)
    for i in range(6):
        reader.execute(f"SELECT {i} AS v").fetchall()  # noqa: S608  (a constant int)
    assert len(reader._cache) == 3
    reader.execute("SELECT 5 AS v")
    assert list(reader._cache)[-1][0] == "SELECT 5 AS v"
    for v in (1, 2):  # one text, several values: one entry
        assert reader.execute("SELECT ? AS v", [v]).fetchall() == [(v,)]
    assert sum(k[0] == "SELECT ? AS v" for k in reader._cache) == 1
    assert len(reader._bound) == 3  # the bound trees too
    assert reader.execute("SELECT ? AS v", [True]).fetchall() == [(True,)]  # True == 1: not 1
    assert reader.execute("SELECT ? AS v", [1.0]).fetchall()[0][0].__class__ is float


def test_temp_table_macros_are_inlined_and_redefining_one_keeps_the_cache(
    chdb_client: Callable[[str], Any],
) -> None:
    reader = Reader(chdb_client("reader_test"))
    define = "CREATE OR REPLACE TEMP MACRO pick(i) AS TABLE SELECT * FROM names WHERE id = i"
    reader.execute(define)
    assert reader.execute("SELECT p.name FROM pick(?) p", [4]).fetchall() == [(HOSTILE[4],)]
    reader.execute(define)  # as the app does before every query
    assert reader.execute("SELECT p.name FROM pick(?) p", [0]).fetchall() == [(HOSTILE[0],)]
    assert len(reader._cache) == 1
    reader.execute(define.replace("id = i", "id = i + 1"))  # another definition: another entry
    assert reader.execute("SELECT p.name FROM pick(?) p", [0]).fetchall() == [(HOSTILE[1],)]
    assert len(reader._cache) == 2


def test_catalog_functions_read_the_clients_database(reader: Reader) -> None:
    sql = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?"
    assert reader.execute(sql, ["names"]).fetchall() == [(1,)]
    assert reader.execute(sql, ["attempts"]).fetchall() == [(0,)]  # another database's


def test_results_have_duckdbs_types(reader: Reader) -> None:
    cur = reader.execute(
        "SELECT CAST(1.5 AS DECIMAL(18, 6)) AS m, DATE '2026-10-20' AS d, "
        "TIMESTAMP '2026-10-20 01:02:03.456789' AS t, [1, 2] AS l, {'k': 1, 'w': 'x'} AS s, "
        "CAST(NULL AS VARCHAR) AS n, 1 = 1 AS b"
    )
    assert [d[0] for d in cur.description] == ["m", "d", "t", "l", "s", "n", "b"]
    assert cur.fetchall() == [
        (Decimal("1.5"), date(2026, 10, 20), datetime(2026, 10, 20, 1, 2, 3, 456789), [1, 2],
         {"k": 1, "w": "x"}, None, True)
    ]  # fmt: skip
    df = reader.execute("SELECT DATE '2026-10-20' AS d, 1 = 1 AS b, NULL::DOUBLE AS f").df()
    assert [str(t) for t in df.dtypes][1:] == ["bool", "float64"]
    assert str(df.dtypes.iloc[0]).startswith("datetime64")


# DuckDB queries the app's rules exist for, each compared with DuckDB over the same rows.
RULE_QUERIES = {
    "quantile_disc": "SELECT g, quantile_disc(v, [0.01, 0.07, 0.25, 0.5, 0.99]) AS q, "
    "quantile_disc(v, 0.29) AS one FROM nums GROUP BY g ORDER BY g",
    "mode": "SELECT g, mode(v % 3) AS m FROM nums GROUP BY g ORDER BY g",
    "round_half_away": "SELECT round(v + 0.5) AS r FROM nums ORDER BY v",
    "group_by_all_alias": "SELECT coalesce(tag, 'none') AS tag, count(*) AS n FROM nums "
    "GROUP BY ALL ORDER BY tag",
    "order_by_aggregate_alias": "SELECT g, sum(v) AS v FROM nums GROUP BY g ORDER BY v DESC, g",
    "string_agg_ordered": "SELECT g, string_agg(coalesce(tag, '-'), ' > ' ORDER BY v) AS s "
    "FROM nums GROUP BY g ORDER BY g",
    "list_desc": "SELECT g, list(v ORDER BY v DESC) AS l FROM nums GROUP BY g ORDER BY g",
    "zipped_unnest": "SELECT unnest(['a', 'b', 'c']) AS k, unnest([1, 2, 3]) AS n",
    "list_has_any": "SELECT count(*) FILTER (WHERE list_has_any(['x', 'y'], [tag])) AS n FROM nums",
    "boolean_projection": "SELECT v > 10 AS big, grouping(g) = 1 AS total, count(*) AS n "
    "FROM nums GROUP BY GROUPING SETS ((v > 10, g), ()) ORDER BY total, big, n",
    "coalesce_filtered_sum": "SELECT coalesce(sum(v) FILTER (WHERE v < 0), 0) AS s FROM nums",
}


@pytest.fixture(scope="module")
def nums(reader: Reader) -> Any:
    import duckdb

    rows = [(i % 4, (i * 37) % 23 + (i % 2) * 0.5, ["x", None, "y", "z"][i % 4]) for i in range(37)]
    reader.client.command("DROP TABLE IF EXISTS nums")
    reader.client.command(
        "CREATE TABLE nums (g Int64, v Float64, tag Nullable(String)) ENGINE = MergeTree ORDER BY g"
    )
    reader.client.insert("nums", [list(r) for r in rows], column_names=["g", "v", "tag"])
    duck = duckdb.connect()
    duck.execute("CREATE TABLE nums (g BIGINT, v DOUBLE, tag VARCHAR)")
    duck.executemany("INSERT INTO nums VALUES (?, ?, ?)", rows)
    return duck


@pytest.mark.parametrize("name", sorted(RULE_QUERIES))
def test_a_rule_gives_duckdbs_result(reader: Reader, nums: Any, name: str) -> None:
    sql = RULE_QUERIES[name]
    expected = nums.execute(sql).fetchall()
    got = reader.execute(sql).fetchall()
    assert got == expected, reader.transpile(sql)
