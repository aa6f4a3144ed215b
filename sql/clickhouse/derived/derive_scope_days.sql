-- generated from sql/derived/derive_scope_days.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one local day an incremental rebuild recomputes
-- key: local_day
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS derive_scope_days (
    local_day Date32
)
ENGINE = MergeTree
ORDER BY local_day;
