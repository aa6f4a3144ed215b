-- generated from sql/marts/cache_savings.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price version an attempt can be priced at (standard variant)
-- key: price_version_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW cache_savings AS
WITH versions AS (
  SELECT
    *
  FROM stg_prices__versions
  WHERE
    variant = 'standard'
)
SELECT
  version_id AS price_version_id,
  source,
  provider,
  model_id,
  input_per_mtok,
  cached_input_per_mtok,
  discount_pct,
  (
    COALESCE(input_per_mtok, 0) - COALESCE(cached_input_per_mtok, input_per_mtok, 0)
  ) * (
    1 - discount_pct * toDecimal128('0.01', 2)
  ) AS saved_per_mtok
FROM versions;
