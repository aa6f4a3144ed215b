-- generated from sql/marts/incident_hours.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (local day, UTC hour, provider, model: canonical) with attempts
-- key: local_day, hour_utc, provider, model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW incident_hours__logic AS
WITH attempts AS (
  SELECT
    *
  FROM attempts
)
SELECT
  local_day,
  dateTrunc('HOUR', started_at) AS hour_utc,
  provider,
  model,
  toInt64(COUNT(*)) AS attempts,
  toInt64(
    COUNT(*) FILTER(WHERE
      status <> 'success' AND error_class IS DISTINCT FROM 'rate_limit')
  ) AS errors,
  toInt64(COUNT(*) FILTER(WHERE
    status <> 'success' AND error_class = 'rate_limit')) AS rate_limited
FROM attempts
GROUP BY ALL;

CREATE TABLE IF NOT EXISTS incident_hours
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(local_day)
ORDER BY (local_day, hour_utc, provider, model)
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM incident_hours__logic;
