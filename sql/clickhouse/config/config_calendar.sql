-- generated from sql/config/config_calendar.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one row: the configured calendar
-- key: (none: one row)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS config_calendar (
    timezone String,
    week_start Int32
)
ENGINE = MergeTree
ORDER BY tuple();
