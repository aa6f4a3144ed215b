-- generated from sql/marts/price_sources.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price source
-- key: source
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW price_sources AS
WITH status AS (
  SELECT
    *
  FROM price_source_status
)
SELECT
  source,
  status,
  last_success_at,
  last_attempt_at,
  models,
  changed,
  pending_review,
  error,
  last_refresh_id
FROM status;
