-- generated from sql/marts/logged_models.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one distinct logged model (provider, logged model, requested model, base model)
-- key: provider, logged_model, requested_model, base_model
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW logged_models AS
WITH matches AS (
  SELECT
    *
  FROM stg_prices__model_matches
)
SELECT
  provider,
  logged_model,
  requested_model,
  base_model,
  priced_provider,
  priced_model_id,
  match_rule,
  reason,
  matched_at,
  model_provider,
  model,
  model_snapshot
FROM matches;
