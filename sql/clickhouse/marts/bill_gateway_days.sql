-- generated from sql/marts/bill_gateway_days.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one UTC day x local day x provider x model (canonical) of the gateway's attempts
-- key: utc_day, local_day, provider, model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW bill_gateway_days__logic AS
WITH attempts AS (
  SELECT
    *
  FROM attempts
  WHERE
    NOT gateway_cache_hit
), versions AS (
  SELECT
    *
  FROM stg_prices__versions
), priced AS (
  SELECT
    CAST(a.started_at AS Nullable(Date32)) AS utc_day,
    a.local_day AS local_day,
    a.provider AS provider,
    a.model AS model,
    a.status AS status,
    a.cost_basis AS cost_basis,
    a.cost_usd AS cost_usd,
    a.computed_cost_usd AS computed_cost_usd,
    a.reported_cost_usd AS reported_cost_usd,
    a.fresh_input_tokens AS fresh_input_tokens,
    a.cache_read_tokens AS cache_read_tokens,
    a.cache_write_5m_tokens AS cache_write_5m_tokens,
    a.cache_write_1h_tokens AS cache_write_1h_tokens,
    a.output_tokens AS output_tokens,
    a.reasoning_tokens AS reasoning_tokens,
    a.cost_basis = 'computed' AS split,
    (
      1 - COALESCE(v.discount_pct, 0) * toDecimal128('0.01', 2)
    ) * toDecimal128('0.000001', 6) AS k,
    v.input_per_mtok AS input_per_mtok,
    COALESCE(v.cached_input_per_mtok, v.input_per_mtok, 0) AS cached_price,
    COALESCE(v.cache_write_5m_per_mtok, v.input_per_mtok, 0) AS cw5_price,
    COALESCE(v.cache_write_1h_per_mtok, v.cache_write_5m_per_mtok, v.input_per_mtok, 0) AS cw1_price,
    v.output_per_mtok AS output_per_mtok,
    v.reasoning_per_mtok AS reasoning_per_mtok
  FROM attempts AS a
  LEFT JOIN versions AS v
    ON v.version_id = a.price_version_id
), classed AS (
  SELECT
    *,
    CASE
      WHEN split
      THEN CAST((
        fresh_input_tokens * COALESCE(input_per_mtok, 0) * k
      ) AS Nullable(Decimal(24, 12)))
    END AS c_input,
    CASE
      WHEN split
      THEN CAST((
        cache_read_tokens * cached_price * k
      ) AS Nullable(Decimal(24, 12)))
    END AS c_cached,
    CASE
      WHEN split
      THEN CAST((
        cache_write_5m_tokens * cw5_price * k
      ) AS Nullable(Decimal(24, 12)))
    END AS c_cw5,
    CASE
      WHEN split
      THEN CAST((
        cache_write_1h_tokens * cw1_price * k
      ) AS Nullable(Decimal(24, 12)))
    END AS c_cw1,
    CASE
      WHEN NOT split
      THEN NULL
      WHEN reasoning_per_mtok IS NULL
      THEN CAST((
        output_tokens * COALESCE(output_per_mtok, 0) * k
      ) AS Nullable(Decimal(24, 12)))
      ELSE CAST((
        (
          output_tokens - reasoning_tokens
        ) * COALESCE(output_per_mtok, 0) * k + reasoning_tokens * reasoning_per_mtok * k
      ) AS Nullable(Decimal(24, 12)))
    END AS c_output
  FROM priced
)
SELECT
  utc_day,
  local_day,
  provider,
  model,
  toInt64(COUNT(*)) AS attempts,
  toInt64(COUNT(*) FILTER(WHERE
    status <> 'success')) AS failed_attempts,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis = 'unpriced')) AS unpriced_attempts,
  toInt64(COUNT(*) FILTER(WHERE
    NOT (
      reported_cost_usd IS NULL
    ))) AS reported_attempts,
  SUM(cost_usd) AS recomputed_usd,
  SUM(reported_cost_usd) AS reported_usd,
  SUM(cost_usd) FILTER(WHERE
    status <> 'success') AS failed_usd,
  SUM(computed_cost_usd) FILTER(WHERE
    cost_basis = 'not_billed') AS failed_unbilled_usd,
  SUM(
    CASE
      WHEN split
      THEN CAST((
        cache_read_tokens * COALESCE(input_per_mtok, 0) * k
      ) AS Nullable(Decimal(24, 12)))
    END
  ) AS cache_read_full_usd,
  SUM(fresh_input_tokens) AS tokens_input,
  SUM(cache_read_tokens) AS tokens_cached_input,
  SUM(cache_write_5m_tokens) AS tokens_cache_write_5m,
  SUM(cache_write_1h_tokens) AS tokens_cache_write_1h,
  SUM(output_tokens) AS tokens_output,
  SUM(c_input) AS usd_input,
  SUM(c_cached) AS usd_cached_input,
  SUM(c_cw5) AS usd_cache_write_5m,
  SUM(c_cw1) AS usd_cache_write_1h,
  SUM(c_output) AS usd_output,
  SUM(
    CASE
      WHEN split
      THEN cost_usd - c_input - c_cached - c_cw5 - c_cw1 - c_output
      ELSE cost_usd
    END
  ) AS usd_other
FROM classed
GROUP BY
  utc_day,
  local_day,
  provider,
  model;

CREATE TABLE IF NOT EXISTS bill_gateway_days
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(local_day)
ORDER BY (utc_day, local_day, provider, model)
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM bill_gateway_days__logic;
