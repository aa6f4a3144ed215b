-- generated from sql/marts/quarantine_reasons.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one reason input rows were quarantined for
-- key: reason
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW quarantine_reasons AS
WITH quarantined AS (
  SELECT
    *
  FROM quarantined_rows
)
SELECT
  reason,
  toInt64(COUNT(*)) AS rows,
  toInt64(COUNT(DISTINCT source_file)) AS files,
  MIN(quarantined_at) AS first_at,
  MAX(quarantined_at) AS last_at
FROM quarantined
GROUP BY
  reason;
