-- generated from sql/marts/report_delivery_log.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one delivery of one weekly report on one channel
-- key: week, channel, sent_at
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW report_delivery_log AS
WITH deliveries AS (
  SELECT
    *
  FROM report_deliveries
)
SELECT
  week,
  channel,
  target,
  status,
  attempts,
  sent_at,
  trigger,
  detail
FROM deliveries;
