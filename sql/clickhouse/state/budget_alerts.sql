-- generated from sql/state/budget_alerts.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (local month, budget scope, threshold)
-- key: month, scope, scope_value, threshold
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS budget_alerts (
    month Date32,
    scope LowCardinality(String),
    scope_value String,
    threshold Float64,
    basis String,
    budget_usd Decimal(18, 6),
    spend_usd Decimal(18, 6),
    projected_usd Decimal(18, 6),
    detected_at DateTime64(6, 'UTC'),
    status LowCardinality(String),
    channels Nullable(String),
    attempts Int32 DEFAULT 0,
    detail Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (month, scope, scope_value, threshold);
