-- generated from sql/ledger/bucket_objects.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one object of a bucket source read into the spool
-- key: source, object_key
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS bucket_objects (
    source LowCardinality(String),
    object_key String,
    etag String,
    day Nullable(Date32),
    size_bytes Int64,
    read_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (source, object_key)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE bucket_objects MODIFY SETTING non_replicated_deduplication_window = 1000;
