-- generated from sql/marts/price_changes.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price version that replaced an earlier one of the same series
-- key: version_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW price_changes AS
WITH versions AS (
  SELECT
    *
  FROM stg_prices__versions
), sequenced AS (
  SELECT
    *,
    lagInFrame(toNullable(input_per_mtok), 1, NULL) OVER (
      PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, window_end_utc
      ORDER BY valid_from
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS prev_input_per_mtok,
    lagInFrame(toNullable(cached_input_per_mtok), 1, NULL) OVER (
      PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, window_end_utc
      ORDER BY valid_from
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS prev_cached_input_per_mtok,
    lagInFrame(toNullable(output_per_mtok), 1, NULL) OVER (
      PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, window_end_utc
      ORDER BY valid_from
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS prev_output_per_mtok,
    lagInFrame(toNullable(version_id), 1, NULL) OVER (
      PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, window_end_utc
      ORDER BY valid_from
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS prev_version_id,
    lagInFrame(
      [
        input_per_mtok,
        cached_input_per_mtok,
        cache_write_5m_per_mtok,
        cache_write_1h_per_mtok,
        output_per_mtok,
        reasoning_per_mtok,
        per_request,
        per_image
      ],
      1
    ) OVER (
      PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, window_end_utc
      ORDER BY valid_from
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS prev_prices
  FROM versions
  WINDOW s AS (
    PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, window_end_utc
    ORDER BY valid_from
  )
)
SELECT
  version_id,
  prev_version_id,
  source,
  provider,
  model_id,
  variant,
  tier_min_prompt_tokens,
  valid_from AS changed_at,
  prev_input_per_mtok,
  input_per_mtok,
  prev_cached_input_per_mtok,
  cached_input_per_mtok,
  prev_output_per_mtok,
  output_per_mtok
FROM sequenced
WHERE
  NOT (
    prev_version_id IS NULL
  )
  AND prev_prices IS DISTINCT FROM [
    input_per_mtok,
    cached_input_per_mtok,
    cache_write_5m_per_mtok,
    cache_write_1h_per_mtok,
    output_per_mtok,
    reasoning_per_mtok,
    per_request,
    per_image
  ];
