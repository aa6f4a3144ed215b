-- generated from sql/marts/incident_model_days.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (local day, provider, model: canonical) with attempts
-- key: local_day, provider, model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW incident_model_days__logic AS
WITH attempts AS (
  SELECT
    *
  FROM attempts
)
SELECT
  local_day,
  provider,
  model,
  toInt64(COUNT(*)) AS attempts,
  toInt64(COUNT(*) FILTER(WHERE
    status = 'success')) AS latency_n,
  quantileExactInclusiveOrNullIf(0.95)(latency_ms, status = 'success') AS p95_ms
FROM attempts
GROUP BY ALL;

CREATE TABLE IF NOT EXISTS incident_model_days
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(local_day)
ORDER BY (local_day, provider, model)
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM incident_model_days__logic;
