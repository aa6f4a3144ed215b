-- generated from sql/derived/derived_state.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one row: the last build of the materialized marts
-- key: (none: one row)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS derived_state (
    fingerprint String,
    built_at DateTime64(6, 'UTC'),
    seconds Nullable(Float64),
    kind LowCardinality(Nullable(String))
)
ENGINE = MergeTree
ORDER BY tuple();
