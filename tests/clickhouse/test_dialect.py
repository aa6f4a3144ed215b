"""The rewrite rules on cases the warehouses do not hold (a glob, a week starting on Sunday,
an hour that does not exist or happens twice, money at the last digit): each DuckDB expression
and its ClickHouse rewrite give the same value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from collectors.warehouse import migrate
from collectors.warehouse.clickhouse import apply, dialect
from collectors.warehouse.migrate import sql_files

_AT = "SELECT {} AS v FROM (SELECT '{}'::TIMESTAMP AS t)"
CASES = [
    # GLOB: * and ?, regex characters literal, classes kept
    "SELECT 'gpt-4o-mini' GLOB 'gpt-4o*' AS v",
    "SELECT 'gpt-4o' GLOB 'gpt-4?' AS v",
    "SELECT 'gptx4' GLOB 'gpt.4' AS v",
    "SELECT 'a+b(c)' GLOB 'a+b(*)' AS v",
    "SELECT 'bbc' GLOB '[ab]bc' AS v",
    "SELECT 'team/search' GLOB 'team/*' AS v",
    # weeks starting on any day
    "SELECT rl_week_start(DATE '2026-11-22', 1) AS v",
    "SELECT rl_week_start(DATE '2026-11-22', 7) AS v",
    "SELECT rl_week_start(DATE '2026-11-21', 3) AS v",
    # wall clock of an instant, around DST changes
    _AT.format("timezone('Europe/Berlin', t::TIMESTAMPTZ)::TIMESTAMP", "2026-10-25 00:30:00"),
    _AT.format(
        "timezone('Europe/Berlin', t::TIMESTAMPTZ)::TIMESTAMP", "2026-10-25 01:30:00.123456"
    ),
    _AT.format("timezone('America/New_York', t::TIMESTAMPTZ)::DATE", "2026-03-08 07:00:00"),
    # a local midnight as a UTC instant, and an instant as a local day
    _AT.format(
        "timezone('UTC', timezone('Asia/Kolkata', t::DATE::TIMESTAMP))", "2026-11-20 00:00:00"
    ),
    _AT.format("timezone('UTC', timezone('Europe/Berlin', t))", "2026-03-29 00:00:00"),
    _AT.format("timezone('Europe/Berlin', timezone('UTC', t))::DATE", "2026-10-24 22:30:00"),
    "SELECT epoch_us(TIMESTAMP '2026-11-20 15:30:00.000123') AS v",
    "SELECT format('{:,}', 1234567) AS v",
    "SELECT format('{:,}', 999) AS v",
    "SELECT format('{:,}', 100000) AS v",
    "SELECT strftime(TIMESTAMP '2026-01-02 03:04:05', '%Y-%m-%dT%H:%M:%S') AS v",
    # money: exact at the 12th decimal, a division to DOUBLE
    "SELECT (t * input_per_mtok + c * cached_input_per_mtok) * 0.000001 AS v FROM (SELECT "
    "123457::BIGINT AS t, 2.5::DECIMAL(18, 6) AS input_per_mtok, 7::BIGINT AS c, "
    "0.000001::DECIMAL(18, 6) AS cached_input_per_mtok)",
    "SELECT cost_usd * (1 - discount_pct / 100) AS v FROM (SELECT 0.123456789012::DECIMAL(24, 12) "
    "AS cost_usd, 12.5::DECIMAL(9, 4) AS discount_pct)",
    "SELECT spend_usd / 3 AS v FROM (SELECT 1::DECIMAL(24, 12) AS spend_usd)",
    "SELECT rl_cost_unknown_reason(0.756, 3, 'request') AS v",
    "SELECT wilson_low(7, 10) AS v",
    # a list from an outer join: an empty list that matched is kept, no match falls back
    "SELECT coalesce(bp.l, bd.l) AS v FROM (SELECT 'a' AS p, ['x'] AS l) bd "
    "LEFT JOIN (SELECT 'a' AS p, []::VARCHAR[] AS l) bp ON bp.p = bd.p",
    "SELECT coalesce(bp.l, bd.l) AS v FROM (SELECT 'a' AS p, ['x'] AS l) bd "
    "LEFT JOIN (SELECT 'b' AS p, ['y'] AS l) bp ON bp.p = bd.p",
    "SELECT coalesce(list(x ORDER BY k) FILTER (WHERE k > 5), ['none']) AS v "
    "FROM (SELECT 'a' AS x, 1 AS k)",
]


@pytest.fixture(scope="module")
def engines(chdb_client: Callable[[str], Any]) -> tuple[duckdb.DuckDBPyConnection, Any]:
    duck = duckdb.connect()
    migrate.apply(duck, ":memory:")
    client = chdb_client("dialect_cases")
    apply.apply(client, "dialect_cases")
    return duck, client


def _value(v: Any) -> Any:
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None) if v.utcoffset() == timedelta(0) else v
    if isinstance(v, timedelta):
        return (datetime.min + v).time()
    return v


@pytest.mark.parametrize("sql", CASES)
def test_the_rewrite_gives_duckdbs_value(sql: str, engines: Any) -> None:
    duck, client = engines
    macros = {m.name: m for m in (dialect.macro_definition(f.text) for f in sql_files()
                                  if f.layer == "macros")}  # fmt: skip
    ch_sql = dialect.view_sql(sql, macros, lambda q: [], {"l"})
    want = duck.execute(sql).fetchone()[0]
    got = _value(client.query(ch_sql, settings=apply.SETTINGS).result_rows[0][0])
    if isinstance(want, float) or isinstance(got, float):
        assert float(got) == pytest.approx(float(want), rel=1e-12), ch_sql
    else:
        assert got == want, ch_sql
    assert isinstance(want, (bool, date, time, Decimal, str, int, float, list))
    if isinstance(want, Decimal):
        assert isinstance(got, Decimal), f"money became {type(got).__name__}: {ch_sql}"
