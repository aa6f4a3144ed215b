-- generated from sql/marts/bill_reconciliation_classes.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one UTC day x provider x model x token class of a bill that names token classes
-- key: day, provider, model, token_class
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW bill_reconciliation_classes AS
WITH bills AS (
  SELECT
    *
  FROM stg_bills__lines
  WHERE
    NOT empty_day
), gateway AS (
  SELECT
    *
  FROM bill_gateway_days
), classed_days AS (
  SELECT
    provider,
    day
  FROM bills
  WHERE
    kind = 'cost'
  GROUP BY
    provider,
    day
  HAVING
    max(NOT (
      model IS NULL
    )) AND max(NOT (
      token_class IS NULL
    ))
), billed AS (
  SELECT
    b.day AS day,
    b.provider AS provider,
    COALESCE(b.model, '(other)') AS model,
    COALESCE(b.token_class, 'other') AS token_class,
    SUM(b.amount_usd) FILTER(WHERE
      b.kind = 'cost') AS billed_usd,
    SUM(b.tokens) FILTER(WHERE
      b.kind = 'usage') AS billed_tokens
  FROM bills AS b
  JOIN classed_days
    USING (provider, day)
  GROUP BY ALL
), gateway_days AS (
  SELECT
    g.utc_day AS day,
    g.provider AS provider,
    g.model AS model,
    SUM(tokens_input) AS tokens_input,
    SUM(tokens_cached_input) AS tokens_cached_input,
    SUM(tokens_cache_write_5m) AS tokens_cache_write_5m,
    SUM(tokens_cache_write_1h) AS tokens_cache_write_1h,
    SUM(tokens_output) AS tokens_output,
    SUM(usd_input) AS usd_input,
    SUM(usd_cached_input) AS usd_cached_input,
    SUM(usd_cache_write_5m) AS usd_cache_write_5m,
    SUM(usd_cache_write_1h) AS usd_cache_write_1h,
    SUM(usd_output) AS usd_output,
    SUM(usd_other) AS usd_other,
    SUM(unpriced_attempts) AS unpriced_attempts
  FROM gateway AS g
  JOIN classed_days AS c
    ON c.provider = g.provider AND c.day = g.utc_day
  GROUP BY ALL
), gateway_classes AS (
  SELECT
    day,
    provider,
    model,
    token_class,
    tokens,
    recomputed_usd,
    unpriced_attempts
  FROM gateway_days
  ARRAY JOIN ['input', 'cached_input', 'cache_write_5m', 'cache_write_1h', 'output', 'other'] AS token_class,
    [
      tokens_input,
      tokens_cached_input,
      tokens_cache_write_5m,
      tokens_cache_write_1h,
      tokens_output,
      NULL
    ] AS tokens,
    [
      usd_input,
      usd_cached_input,
      usd_cache_write_5m,
      usd_cache_write_1h,
      usd_output,
      usd_other
    ] AS recomputed_usd
)
SELECT
  day,
  provider,
  model,
  token_class,
  CAST(COALESCE(b.billed_usd, 0) AS Nullable(Decimal(18, 9))) AS billed_usd,
  b.billed_tokens AS billed_tokens,
  g.recomputed_usd AS recomputed_usd,
  g.tokens AS gateway_tokens,
  COALESCE(b.billed_usd, 0) - g.recomputed_usd AS drift_usd,
  CASE
    WHEN COALESCE(b.billed_usd, 0) <> 0
    THEN CAST((
      toFloat64((
        COALESCE(b.billed_usd, 0) - g.recomputed_usd
      )) / toFloat64(b.billed_usd)
    ) AS Nullable(Float64))
  END AS drift_share,
  b.billed_tokens - g.tokens AS token_drift
FROM billed AS b
FULL JOIN gateway_classes AS g
  USING (day, provider, model, token_class)
WHERE
  COALESCE(b.billed_usd, 0) <> 0
  OR COALESCE(g.recomputed_usd, 0) <> 0
  OR COALESCE(b.billed_tokens, 0) <> 0
  OR COALESCE(g.tokens, 0) <> 0;
