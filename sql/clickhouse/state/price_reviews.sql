-- generated from sql/state/price_reviews.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price change held for review
-- key: review_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS price_reviews (
    review_id String,
    source LowCardinality(String),
    provider LowCardinality(String),
    model_id LowCardinality(String),
    kind LowCardinality(String),
    status LowCardinality(String),
    detected_at DateTime64(6, 'UTC'),
    refresh_id String,
    detail String,
    decided_at Nullable(DateTime64(6, 'UTC')),
    decided_by Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY review_id;
