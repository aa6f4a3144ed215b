-- generated from sql/marts/incident_alert_log.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one incident claimed for an alert
-- key: incident_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW incident_alert_log AS
WITH alerts AS (
  SELECT
    *
  FROM incident_alerts
)
SELECT
  incident_id,
  kind,
  provider,
  model,
  start_at,
  end_at,
  summary,
  page,
  detected_at,
  status,
  channels,
  attempts,
  detail
FROM alerts;
