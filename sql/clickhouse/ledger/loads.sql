-- generated from sql/ledger/loads.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (ingest run, file)
-- key: load_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS loads (
    load_id String,
    run_id String,
    source LowCardinality(String),
    file String,
    started_at DateTime64(6, 'UTC'),
    ended_at Nullable(DateTime64(6, 'UTC')),
    status LowCardinality(String),
    rows_loaded Int64 DEFAULT 0,
    duplicates Int64 DEFAULT 0,
    quarantined Int64 DEFAULT 0,
    bytes_read Int64 DEFAULT 0,
    skipped Int64 DEFAULT 0,
    pid Nullable(Int32),
    error Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY load_id
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE loads MODIFY SETTING non_replicated_deduplication_window = 1000;
