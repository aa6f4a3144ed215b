-- generated from sql/state/bill_alerts.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (UTC day, provider) whose bill drifted past bills.drift_alert_share
-- key: day, provider
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS bill_alerts (
    day Date32,
    provider LowCardinality(String),
    billed_usd Decimal(18, 9),
    recomputed_usd Decimal(24, 12),
    drift_usd Decimal(24, 12),
    drift_share Float64,
    threshold Float64,
    origin Nullable(String),
    detected_at DateTime64(6, 'UTC'),
    status LowCardinality(String),
    channels Nullable(String),
    attempts Int32 DEFAULT 0,
    detail Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (day, provider);
