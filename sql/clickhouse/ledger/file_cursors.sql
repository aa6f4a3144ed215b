-- generated from sql/ledger/file_cursors.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one log file
-- key: file
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS file_cursors (
    file String,
    format String,
    head_hash String,
    offset_bytes Int64,
    lines_read Int64,
    size_bytes Int64,
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY file
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE file_cursors MODIFY SETTING non_replicated_deduplication_window = 1000;
