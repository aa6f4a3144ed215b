-- generated from sql/ledger/price_source_status.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price source
-- key: source
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS price_source_status (
    source LowCardinality(String),
    last_attempt_at DateTime64(6, 'UTC'),
    last_success_at Nullable(DateTime64(6, 'UTC')),
    status LowCardinality(String),
    models Int32 DEFAULT 0,
    changed Int32 DEFAULT 0,
    pending_review Int32 DEFAULT 0,
    error Nullable(String),
    etag Nullable(String),
    last_modified Nullable(String),
    content_sha256 Nullable(String),
    last_refresh_id Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY source
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE price_source_status MODIFY SETTING non_replicated_deduplication_window = 1000;
