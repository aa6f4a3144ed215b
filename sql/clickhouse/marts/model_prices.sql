-- generated from sql/marts/model_prices.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one validity period of one price series (source, model, variant, tier, time window)
-- key: version_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW model_prices AS
WITH versions AS (
  SELECT
    *
  FROM price_versions
)
SELECT
  version_id,
  source,
  source_rank,
  provider,
  model_id,
  variant,
  tier_min_prompt_tokens,
  window_start_utc,
  window_end_utc,
  weekdays_only,
  input_per_mtok,
  cached_input_per_mtok,
  cache_write_5m_per_mtok,
  cache_write_1h_per_mtok,
  output_per_mtok,
  reasoning_per_mtok,
  per_request,
  per_image,
  discount_pct,
  valid_from,
  valid_to,
  first_observed_at,
  last_observed_at
FROM versions;
