-- generated from sql/marts/pending_price_reviews.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price change held for review and not decided yet
-- key: review_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW pending_price_reviews AS
WITH reviews AS (
  SELECT
    *
  FROM price_reviews
)
SELECT
  review_id,
  detected_at,
  source,
  provider,
  model_id,
  kind,
  detail,
  refresh_id
FROM reviews
WHERE
  status = 'pending';
