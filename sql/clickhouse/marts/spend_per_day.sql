-- generated from sql/marts/spend_per_day.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one local day x provider x served model x task x team x key
-- key: local_day, provider, model, task, team, key_hash
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW spend_per_day__logic AS
SELECT
  local_day,
  local_week,
  local_month,
  provider,
  model,
  task,
  team,
  key_hash,
  toInt64(COUNT(*)) AS attempts,
  toInt64(COUNT(*) FILTER(WHERE
    status = 'success')) AS successes,
  toInt64(COUNT(DISTINCT logical_request_id)) AS logical_requests,
  SUM(cost_usd) AS spend_usd,
  SUM(cost_usd) FILTER(WHERE
    status <> 'success') AS spend_on_failures_usd,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis = 'unpriced')) AS unpriced_attempts,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis <> 'unpriced')) AS priced_attempts,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis <> 'unpriced' AND status = 'success')) AS priced_successes,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis = 'unpriced' AND status <> 'success')) AS unpriced_failed_attempts,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis = 'not_billed')) AS not_billed_attempts,
  SUM(prompt_tokens) AS prompt_tokens,
  SUM(output_tokens) AS output_tokens
FROM attempts
GROUP BY ALL;

CREATE TABLE IF NOT EXISTS spend_per_day
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(local_day)
ORDER BY (local_day, provider, model, task, team, key_hash)
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM spend_per_day__logic;
