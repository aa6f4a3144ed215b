-- generated from sql/raw/eval_scores.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one imported evaluation score
-- key: import_id, source_line
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS eval_scores (
    import_id String,
    imported_at DateTime64(6, 'UTC'),
    source_file String,
    source_line Int64,
    task LowCardinality(String),
    model LowCardinality(String),
    score Float64
)
ENGINE = MergeTree
ORDER BY (import_id, source_line)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE eval_scores MODIFY SETTING non_replicated_deduplication_window = 1000;
