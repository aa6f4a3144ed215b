-- generated from sql/marts/unpriced_usage.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one logged (provider, served model) with attempts that have no price
-- key: provider, model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW unpriced_usage__logic AS
WITH unpriced AS (
  SELECT
    *
  FROM attempts
  WHERE
    cost_basis IN ('unpriced', 'reported')
), matches AS (
  SELECT
    *
  FROM stg_prices__model_matches
)
SELECT
  u.provider AS provider,
  u.served_model AS model,
  toInt64(COUNT(*)) AS attempts,
  toInt64(COUNT(DISTINCT u.logical_request_id)) AS logical_requests,
  SUM(u.prompt_tokens) AS prompt_tokens,
  SUM(u.output_tokens) AS output_tokens,
  toInt64(COUNT(*) FILTER(WHERE
    u.cost_basis = 'reported')) AS priced_from_gateway,
  SUM(u.reported_cost_usd) AS reported_cost_usd,
  MIN(u.started_at) AS first_seen,
  MAX(u.started_at) AS last_seen,
  COALESCE(MIN(m.reason), 'no price match attempted yet') AS reason
FROM unpriced AS u
LEFT JOIN matches AS m
  ON u.logged_provider IS NOT DISTINCT FROM m.provider
  AND u.served_model = m.logged_model
GROUP BY
  u.provider,
  u.served_model;

CREATE TABLE IF NOT EXISTS unpriced_usage
ENGINE = MergeTree
ORDER BY (provider, model)
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM unpriced_usage__logic;
