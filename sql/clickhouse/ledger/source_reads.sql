-- generated from sql/ledger/source_reads.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one source that is not a file ([[sources]] url or dsn_env, the OTLP/HTTP receiver)
-- key: source
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS source_reads (
    source LowCardinality(String),
    kind LowCardinality(String),
    last_read_at Nullable(DateTime64(6, 'UTC')),
    last_ok_at Nullable(DateTime64(6, 'UTC')),
    newest_at Nullable(DateTime64(6, 'UTC')),
    rows_last Int64 DEFAULT 0,
    rows_total Int64 DEFAULT 0,
    errors_total Int64 DEFAULT 0,
    error Nullable(String),
    cursor Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY source
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE source_reads MODIFY SETTING non_replicated_deduplication_window = 1000;
