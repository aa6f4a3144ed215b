-- generated from sql/raw/provider_bills.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one line of a provider's usage or cost export, in one import
-- key: import_id, line_key
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS provider_bills (
    import_id String,
    imported_at DateTime64(6, 'UTC'),
    line_key String,
    provider LowCardinality(String),
    kind LowCardinality(String),
    export_format LowCardinality(String),
    day Date32,
    project Nullable(String),
    model LowCardinality(Nullable(String)),
    billed_model Nullable(String),
    token_class LowCardinality(Nullable(String)),
    line_item Nullable(String),
    service_tier LowCardinality(Nullable(String)),
    amount_usd Nullable(Decimal(18, 9)),
    tokens Nullable(Int64),
    requests Nullable(Int64),
    empty_day Bool,
    source_file String,
    source_line Int64
)
ENGINE = MergeTree
ORDER BY (import_id, line_key)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE provider_bills MODIFY SETTING non_replicated_deduplication_window = 1000;
