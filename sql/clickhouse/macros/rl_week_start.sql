-- generated from sql/macros/rl_week_start.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: a scalar macro (no rows)
-- key: (none)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE FUNCTION rl_week_start AS (d, ws) ->
    CAST((d - toIntervalDay(CAST(((toDayOfWeek(d) - ws + 7) % 7) AS Nullable(Int32)))) AS Nullable(Date32));
