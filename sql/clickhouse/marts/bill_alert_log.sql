-- generated from sql/marts/bill_alert_log.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (UTC day, provider) bill drift alert
-- key: day, provider
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW bill_alert_log AS
WITH alerts AS (
  SELECT
    *
  FROM bill_alerts
)
SELECT
  day,
  provider,
  billed_usd,
  recomputed_usd,
  drift_usd,
  drift_share,
  threshold,
  origin,
  detected_at,
  status,
  channels,
  attempts,
  detail
FROM alerts;
