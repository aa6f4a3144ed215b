-- generated from sql/marts/bill_reconciliation.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one UTC day x provider x model that a provider's cost bill covers
-- key: day, provider, model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW bill_reconciliation AS
WITH bills AS (
  SELECT
    *
  FROM stg_bills__lines
), gateway AS (
  SELECT
    *
  FROM bill_gateway_days
), classes AS (
  SELECT
    *
  FROM bill_reconciliation_classes
), covered AS (
  SELECT
    provider,
    day,
    COALESCE(max(NOT (
      model IS NULL
    ) AND NOT empty_day), FALSE) AS by_model
  FROM bills
  WHERE
    kind = 'cost'
  GROUP BY
    provider,
    day
), keyed AS (
  SELECT
    b.*,
    CASE WHEN v.by_model THEN COALESCE(b.model, '(other)') ELSE '(all)' END AS model_key
  FROM bills AS b
  JOIN covered AS v
    USING (provider, day)
  WHERE
    NOT (
      b.empty_day AND v.by_model
    )
), billed AS (
  SELECT
    day,
    provider,
    model_key AS model,
    SUM(amount_usd) FILTER(WHERE
      kind = 'cost') AS billed_usd,
    toInt64(COUNT(*) FILTER(WHERE
      kind = 'cost' AND NOT empty_day)) AS bill_lines,
    SUM(tokens) FILTER(WHERE
      kind = 'usage') AS billed_tokens,
    arrayStringConcat(arraySort(groupUniqArray(export_format)), ', ') AS exports
  FROM keyed
  GROUP BY ALL
), logged AS (
  SELECT
    g.utc_day AS day,
    g.provider AS provider,
    CASE WHEN v.by_model THEN g.model ELSE '(all)' END AS model,
    SUM(g.attempts) AS attempts,
    SUM(g.failed_attempts) AS failed_attempts,
    SUM(g.unpriced_attempts) AS unpriced_attempts,
    SUM(g.reported_attempts) AS reported_attempts,
    SUM(g.recomputed_usd) AS recomputed_usd,
    SUM(g.reported_usd) AS reported_usd,
    SUM(g.failed_usd) AS failed_usd,
    SUM(g.failed_unbilled_usd) AS failed_unbilled_usd,
    SUM(g.cache_read_full_usd) AS cache_read_full_usd,
    SUM(
      g.tokens_input + g.tokens_cached_input + g.tokens_cache_write_5m + g.tokens_cache_write_1h + g.tokens_output
    ) AS gateway_tokens
  FROM gateway AS g
  JOIN covered AS v
    ON v.provider = g.provider AND v.day = g.utc_day
  GROUP BY ALL
), cache_drift AS (
  SELECT
    day,
    provider,
    model,
    SUM(drift_usd) FILTER(WHERE
      token_class IN ('cached_input', 'cache_write_5m', 'cache_write_1h')) AS cache_drift_usd
  FROM classes
  GROUP BY ALL
), joined AS (
  SELECT
    day,
    provider,
    model,
    CAST(COALESCE(b.billed_usd, 0) AS Nullable(Decimal(18, 9))) AS billed_usd,
    COALESCE(b.bill_lines, 0) AS bill_lines,
    b.billed_tokens AS billed_tokens,
    b.exports AS exports,
    COALESCE(l.attempts, 0) AS attempts,
    COALESCE(l.failed_attempts, 0) AS failed_attempts,
    COALESCE(l.unpriced_attempts, 0) AS unpriced_attempts,
    COALESCE(l.reported_attempts, 0) AS reported_attempts,
    CAST(CASE WHEN COALESCE(l.attempts, 0) = 0 THEN 0 ELSE l.recomputed_usd END AS Nullable(Decimal(24, 12))) AS recomputed_usd,
    l.reported_usd AS reported_usd,
    l.failed_usd AS failed_usd,
    l.failed_unbilled_usd AS failed_unbilled_usd,
    l.cache_read_full_usd AS cache_read_full_usd,
    l.gateway_tokens AS gateway_tokens,
    c.cache_drift_usd AS cache_drift_usd
  FROM billed AS b
  FULL JOIN logged AS l
    USING (day, provider, model)
  LEFT JOIN cache_drift AS c
    USING (day, provider, model)
), drifts AS (
  SELECT
    *,
    billed_usd - recomputed_usd AS drift_usd,
    CASE WHEN reported_attempts > 0 THEN billed_usd - reported_usd END AS reported_drift_usd,
    GREATEST(toDecimal128('0.01', 2), toDecimal128('0.01', 2) * ABS(billed_usd)) AS tolerance_usd
  FROM joined
)
SELECT
  day,
  provider,
  model,
  billed_usd,
  recomputed_usd,
  reported_usd,
  drift_usd,
  CASE
    WHEN billed_usd <> 0
    THEN CAST((
      toFloat64(drift_usd) / toFloat64(billed_usd)
    ) AS Nullable(Float64))
  END AS drift_share,
  reported_drift_usd,
  CASE
    WHEN billed_usd <> 0
    THEN CAST((
      toFloat64(reported_drift_usd) / toFloat64(billed_usd)
    ) AS Nullable(Float64))
  END AS reported_drift_share,
  CASE
    WHEN attempts = 0
    THEN 'bill_only'
    WHEN bill_lines = 0 AND billed_usd = 0
    THEN 'gateway_only'
    WHEN recomputed_usd IS NULL
    THEN 'unpriced'
    WHEN ABS(drift_usd) <= tolerance_usd
    THEN 'matches'
    WHEN unpriced_attempts > 0 AND drift_usd > 0
    THEN 'unpriced'
    WHEN COALESCE(failed_unbilled_usd, 0) > 0
    AND ABS(drift_usd - failed_unbilled_usd) <= tolerance_usd
    THEN 'failed_billed'
    WHEN COALESCE(failed_usd, 0) > 0 AND ABS(drift_usd + failed_usd) <= tolerance_usd
    THEN 'failed_not_billed'
    WHEN COALESCE(cache_read_full_usd, 0) > 0
    AND ABS(drift_usd + cache_read_full_usd) <= tolerance_usd
    THEN 'cache_counted_twice'
    WHEN NOT (
      cache_drift_usd IS NULL
    )
    AND ABS(drift_usd - cache_drift_usd) < toDecimal128('0.5', 1) * ABS(drift_usd)
    THEN 'cache_tokens'
    ELSE 'unexplained'
  END AS origin,
  tolerance_usd,
  attempts,
  failed_attempts,
  unpriced_attempts,
  reported_attempts,
  failed_usd,
  failed_unbilled_usd,
  cache_read_full_usd,
  cache_drift_usd,
  billed_tokens,
  gateway_tokens,
  bill_lines,
  exports
FROM drifts;
