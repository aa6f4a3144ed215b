-- generated from sql/state/report_deliveries.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one delivery of one weekly report on one channel
-- key: week, channel, sent_at
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS report_deliveries (
    week String,
    channel LowCardinality(String),
    target String,
    status LowCardinality(String),
    attempts Int32,
    sent_at DateTime64(6, 'UTC'),
    trigger String,
    detail Nullable(String)
)
ENGINE = MergeTree
ORDER BY (week, channel, sent_at);
