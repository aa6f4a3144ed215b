-- generated from sql/raw/raw_quarantine.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one input row that could not become an attempt
-- key: source_file, source_line, load_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS raw_quarantine (
    load_id String,
    source LowCardinality(String),
    source_file String,
    source_line Int64,
    reason String,
    detail Nullable(String),
    raw_excerpt Nullable(String),
    quarantined_at DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY (source_file, source_line, load_id)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE raw_quarantine MODIFY SETTING non_replicated_deduplication_window = 1000;
