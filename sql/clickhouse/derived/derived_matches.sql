-- generated from sql/derived/derived_matches.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one model match the marts were last built with
-- key: provider, logged_model, requested_model, base_model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS derived_matches (
    provider LowCardinality(Nullable(String)),
    logged_model LowCardinality(String),
    requested_model LowCardinality(Nullable(String)),
    base_model LowCardinality(Nullable(String)),
    priced_provider LowCardinality(Nullable(String)),
    priced_model_id LowCardinality(Nullable(String)),
    model_provider LowCardinality(Nullable(String)),
    model LowCardinality(Nullable(String))
)
ENGINE = MergeTree
ORDER BY logged_model;
