-- generated from sql/staging/stg_config__calendar.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: the one calendar of the configuration (UTC, weeks from Monday when none is configured)
-- key: (one row)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW stg_config__calendar AS
SELECT
  COALESCE(MAX(timezone), 'UTC') AS timezone,
  COALESCE(MAX(week_start), 1) AS week_start
FROM config_calendar;
