-- generated from sql/state/manifest_versions.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one stored version of a routing manifest
-- key: manifest_path, version
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS manifest_versions (
    version Int32,
    manifest_path String,
    sha256 String,
    stored_path String,
    kind LowCardinality(String),
    created_at DateTime64(6, 'UTC'),
    created_by String,
    comment Nullable(String),
    restored_from Nullable(Int32)
)
ENGINE = ReplacingMergeTree
ORDER BY (manifest_path, version);
