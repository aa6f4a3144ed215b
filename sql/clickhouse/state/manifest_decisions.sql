-- generated from sql/state/manifest_decisions.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one decision on a tuner proposal
-- key: decision_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS manifest_decisions (
    decision_id String,
    decided_at DateTime64(6, 'UTC'),
    decision String,
    decided_by String,
    auth String,
    comment Nullable(String),
    manifest_path String,
    previous_sha256 Nullable(String),
    proposed_sha256 String,
    window_since Nullable(Date32),
    window_until Nullable(Date32),
    proposal Nullable(String),
    version Nullable(Int32)
)
ENGINE = ReplacingMergeTree
ORDER BY decision_id;
