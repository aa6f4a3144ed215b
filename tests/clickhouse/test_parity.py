"""The comparison the parity suite makes (rows and keys, money exactly, floats to 1e-9 relative,
NULL where DuckDB has NULL), checked on two warehouses built through the real pipeline and copied
into ClickHouse as Arrow: it has rows to compare, it sees a cent, the copy is whole, the table
macros agree. Every relation is compared on homes built on ClickHouse through the pipeline
(tests/clickhouse/test_backend.py), which covers the generated SQL and the write path at once."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.warehouse.clickhouse import apply
from collectors.warehouse.migrate import VIEW_LAYERS, sql_files
from tests.clickhouse import parity

# Relations with no rows in either warehouse (nothing there to compare yet): a change here means
# the fixtures or the SQL changed, and the parity of that relation is tested again, or no more.
EMPTY_IN_BOTH = {
    "stg_config__task_rules",
    "bill_alert_log",
    "budget_alert_log",
    "incident_alert_log",
    "job_run_log",
    "report_delivery_log",
    "source_read_log",
}
RELATIONS = [f for f in sql_files() if f.layer in VIEW_LAYERS]
pytestmark = pytest.mark.slow  # the session fixture builds two warehouses (about 20 s)


def test_the_comparison_has_rows_to_compare(warehouses: Any) -> None:
    empty = set()
    for f in RELATIONS:
        sql = parity.relation_sql(f, "duckdb")
        counts = [p.duck.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
                  for p in warehouses.values()]  # fmt: skip
        if not any(counts):
            empty.add(f.name)
    assert empty == EMPTY_IN_BOTH


def test_every_base_table_was_copied_whole(warehouses: Any) -> None:
    for pair in warehouses.values():
        for table, rows in pair.copied.items():
            got = pair.client.query(f"SELECT count() FROM {table}").result_rows[0][0]
            assert got == rows, f"{pair.name}.{table}"
        assert pair.copied["raw_attempts"] > 1000


def test_the_comparison_sees_a_cent_of_difference(warehouses: Any) -> None:
    """The comparison itself: one attempt's cost changed by 10^-12 USD is a difference."""
    pair = warehouses["fixture"]
    f = next(f for f in RELATIONS if f.name == "attempts")
    pair.client.command(
        "ALTER TABLE attempts UPDATE cost_usd = cost_usd + toDecimal128('0.000000000001', 12) "
        "WHERE attempt_id = (SELECT min(attempt_id) FROM attempts WHERE cost_usd > 0)",
        settings={"mutations_sync": 2},
    )
    try:
        diff = parity.differences(f, pair.duck, pair.client)
        assert len(diff) == 1 and ".cost_usd:" in diff[0]
    finally:
        pair.client.command(
            "ALTER TABLE attempts UPDATE cost_usd = cost_usd - toDecimal128('0.000000000001', 12) "
            "WHERE attempt_id = (SELECT min(attempt_id) FROM attempts WHERE cost_usd > 0)",
            settings={"mutations_sync": 2},
        )


@pytest.mark.parametrize(("name", "count"), [("task_stats", "logical_requests"),
                                              ("model_task_stats", "attempts")])  # fmt: skip
def test_table_macros_agree_over_a_week(name: str, count: str, warehouses: Any) -> None:
    """The parameters reach the filter: one week of the demo counts less than the whole."""
    f = next(f for f in RELATIONS if f.name == name)
    pair = warehouses["demo"]
    week = ("2026-11-09", "2026-11-15")
    assert parity.differences(f, pair.duck, pair.client, window=week) == []

    def total(window: tuple[str, str]) -> int:
        sql = f"SELECT sum({count}) FROM ({parity.relation_sql(f, 'clickhouse', window)})"
        return int(pair.client.query(sql, settings=apply.SETTINGS).result_rows[0][0])

    assert 0 < total(week) < total(parity.WINDOW)
