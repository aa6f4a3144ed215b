-- generated from sql/state/incident_alerts.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one incident claimed for an alert
-- key: incident_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS incident_alerts (
    incident_id String,
    kind LowCardinality(String),
    provider LowCardinality(Nullable(String)),
    model LowCardinality(String),
    start_at DateTime64(6, 'UTC'),
    end_at DateTime64(6, 'UTC'),
    summary String,
    page String,
    detected_at DateTime64(6, 'UTC'),
    status LowCardinality(String),
    channels Nullable(String),
    attempts Int32 DEFAULT 0,
    detail Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY incident_id;
