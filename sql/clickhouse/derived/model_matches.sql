-- generated from sql/derived/model_matches.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one distinct logged model
-- key: provider, logged_model, requested_model, base_model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS model_matches (
    provider LowCardinality(Nullable(String)),
    logged_model LowCardinality(String),
    requested_model LowCardinality(Nullable(String)),
    base_model LowCardinality(Nullable(String)),
    priced_provider LowCardinality(Nullable(String)),
    priced_model_id LowCardinality(Nullable(String)),
    match_rule LowCardinality(String),
    reason String,
    model_provider LowCardinality(Nullable(String)),
    model LowCardinality(Nullable(String)),
    model_snapshot Nullable(String),
    matched_at DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY logged_model;
