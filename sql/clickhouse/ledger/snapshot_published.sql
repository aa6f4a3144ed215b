-- generated from sql/ledger/snapshot_published.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one row in a read snapshot (collectors/warehouse/snapshot.py); none in the warehouse
-- key: (none)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS snapshot_published (
    published_at DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY tuple()
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE snapshot_published MODIFY SETTING non_replicated_deduplication_window = 1000;
