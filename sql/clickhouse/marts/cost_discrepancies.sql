-- generated from sql/marts/cost_discrepancies.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (provider, model: canonical) whose gateway-reported cost differs from the recomputed one
-- key: provider, model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW cost_discrepancies__logic AS
WITH both_costs AS (
  SELECT
    *
  FROM attempts
  WHERE
    NOT (
      reported_cost_usd IS NULL
    )
    AND NOT (
      computed_cost_usd IS NULL
    )
    AND NOT gateway_cache_hit
), flagged AS (
  SELECT
    *,
    reported_cost_usd - computed_cost_usd AS diff
  FROM both_costs
  WHERE
    ABS(reported_cost_usd - computed_cost_usd) > GREATEST(toDecimal128('0.000001', 6), toDecimal128('0.05', 2) * ABS(computed_cost_usd))
)
SELECT
  provider,
  model,
  toInt64(COUNT(*)) AS attempts,
  SUM(reported_cost_usd) AS reported_usd,
  SUM(computed_cost_usd) AS computed_usd,
  SUM(diff) AS difference_usd,
  MIN(started_at) AS first_seen,
  MAX(started_at) AS last_seen,
  any(price_source) IGNORE NULLS AS price_source
FROM flagged
GROUP BY
  provider,
  model;

CREATE TABLE IF NOT EXISTS cost_discrepancies
ENGINE = MergeTree
ORDER BY (provider, model)
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM cost_discrepancies__logic;
