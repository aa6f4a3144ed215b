-- generated from sql/staging/stg_gateway__attempts.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one attempt (one call to one provider)
-- key: attempt_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW stg_gateway__attempts AS
WITH raw AS (
  SELECT
    *
  FROM raw_attempts
  WHERE
    TRUE
), repeated_keys AS (
  SELECT
    logical_request_id,
    attempt_id
  FROM raw
  GROUP BY
    logical_request_id,
    attempt_id
  HAVING
    toInt64(COUNT(*)) > 1
), repeated AS (
  SELECT
    logical_request_id,
    attempt_id,
    MIN((ingested_at, load_id, source_line)) AS first_landed
  FROM raw
  SEMI JOIN repeated_keys
    USING (logical_request_id, attempt_id)
  GROUP BY
    logical_request_id,
    attempt_id
), deduped AS (
  SELECT
    r.*
  FROM raw AS r
  LEFT JOIN repeated AS d
    USING (logical_request_id, attempt_id)
  WHERE
    d.first_landed IS NULL
    OR (r.ingested_at, r.load_id, r.source_line) = d.first_landed
), counts AS (
  SELECT
    *,
    COALESCE(input_tokens, 0) AS n_in,
    COALESCE(cached_input_tokens, 0) AS n_cached,
    COALESCE(cache_write_tokens, 0) AS n_cw,
    LEAST(
      COALESCE(cache_write_1h_tokens, 0),
      COALESCE(cache_write_tokens, cache_write_1h_tokens, 0)
    ) AS n_cw1h,
    COALESCE(output_tokens, 0) AS n_out,
    COALESCE(reasoning_tokens, 0) AS n_reason
  FROM deduped
)
SELECT
  load_id,
  source,
  source_file,
  source_line,
  attempt_id,
  logical_request_id,
  attempt_index AS source_attempt_index,
  started_at,
  ended_at,
  ttft_ms,
  latency_ms,
  provider,
  requested_model,
  served_model,
  deployment_id,
  base_model,
  task AS task_hint,
  team,
  user_id,
  key_hash,
  key_alias,
  route,
  agent_name,
  conversation_id,
  CASE WHEN input_includes_cached THEN n_in ELSE n_in + n_cached + n_cw END AS prompt_tokens,
  CASE
    WHEN input_includes_cached
    THEN GREATEST(n_in - n_cached - n_cw, 0)
    ELSE n_in
  END AS fresh_input_tokens,
  n_cached AS cache_read_tokens,
  n_cw - n_cw1h AS cache_write_5m_tokens,
  n_cw1h AS cache_write_1h_tokens,
  CASE WHEN output_includes_reasoning THEN n_out ELSE n_out + n_reason END AS output_tokens,
  n_reason AS reasoning_tokens,
  input_includes_cached,
  output_includes_reasoning,
  NOT (
    COALESCE(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens) IS NULL
  ) AS has_token_counts,
  status,
  error_class,
  error_type,
  http_status,
  gateway_cache_hit,
  streamed,
  reported_cost_usd,
  validation_passed,
  quality_score,
  ingested_at
FROM counts;
