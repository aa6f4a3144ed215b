-- generated from sql/config/config_task_rules.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one [[tasks.rules]] entry of routeledger.toml
-- key: position
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS config_task_rules (
    position Int32,
    field LowCardinality(String),
    pattern String,
    task LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY position;
