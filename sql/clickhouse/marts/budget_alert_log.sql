-- generated from sql/marts/budget_alert_log.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (local month, budget scope, threshold) alert
-- key: month, scope, scope_value, threshold
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW budget_alert_log AS
WITH alerts AS (
  SELECT
    *
  FROM budget_alerts
)
SELECT
  month,
  scope,
  scope_value,
  threshold,
  basis,
  budget_usd,
  spend_usd,
  projected_usd,
  detected_at,
  status,
  channels,
  attempts,
  detail
FROM alerts;
