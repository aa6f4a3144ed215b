-- generated from sql/marts/log_sources.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one log source (a format of gateway logs that has been loaded at least once)
-- key: source
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW log_sources AS
WITH file_loads AS (
  SELECT
    *
  FROM file_loads
)
SELECT
  source,
  MAX(ended_at) FILTER(WHERE
    status = 'ok') AS last_success_at,
  argMax(status, started_at) AS last_status,
  toInt64(COUNT(*)) AS loads,
  SUM(rows_loaded) AS rows_loaded,
  SUM(duplicates) AS duplicates,
  SUM(quarantined) AS quarantined,
  toInt64(COUNT(*) FILTER(WHERE
    status = 'failed')) AS failed,
  toInt64(COUNT(*) FILTER(WHERE
    status = 'interrupted')) AS interrupted,
  argMax(error, started_at) FILTER(WHERE
    NOT (
      error IS NULL
    )) AS last_error
FROM file_loads
GROUP BY
  source;
