-- generated from sql/marts/logical_requests.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one logical request (all attempts sharing a logical request id)
-- key: logical_request_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW logical_requests__logic AS
WITH attempts AS (
  SELECT
    *
  FROM attempts
  WHERE
    TRUE
)
SELECT
  logical_request_id,
  GREATEST(toInt64(COUNT(*)), MAX(source_attempt_index)) AS attempts,
  GREATEST(toInt64(COUNT(*)), MAX(source_attempt_index)) - toInt64(COUNT(*)) AS unlogged_attempts,
  MIN(started_at) AS started_at,
  MAX(ended_at) AS ended_at,
  argMin(local_day, attempt_index) AS local_day,
  argMin(local_week, attempt_index) AS local_week,
  argMin(local_month, attempt_index) AS local_month,
  argMin(task, attempt_index) AS task,
  argMin(team, attempt_index) AS team,
  argMin(agent_name, attempt_index) AS agent_name,
  argMin(conversation_id, attempt_index) AS conversation_id,
  argMin(requested_model, attempt_index) AS requested_model,
  argMin(provider, attempt_index) AS first_provider,
  argMin(model, attempt_index) AS first_model,
  argMax(provider, attempt_index) AS final_provider,
  argMax(model, attempt_index) AS final_model,
  argMax(status, attempt_index) AS final_status,
  argMax(error_class, attempt_index) AS final_error_class,
  argMax(status, attempt_index) = 'success' AS succeeded,
  CASE
    WHEN notEmpty(
      arrayMap(
        p -> p.2,
        arraySort(p -> p.1, groupArrayIf(((
            attempt_index
        ), model), attempt_count > 1))
      )
    )
    THEN arrayMap(
      p -> p.2,
      arraySort(p -> p.1, groupArrayIf(((
          attempt_index
      ), model), attempt_count > 1))
    )
    ELSE [argMin(model, attempt_index)]
  END AS chain,
  GREATEST(toInt64(COUNT(*)), MAX(source_attempt_index)) > 1 AS retried,
  argMax(model, attempt_index) <> argMin(model, attempt_index) AS fell_back,
  SUM(cost_usd) AS cost_usd,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis = 'unpriced')) AS unpriced_attempts,
  toInt64(COUNT(*) FILTER(WHERE
    cost_basis = 'unpriced')) = 0 AS priced,
  SUM(prompt_tokens) AS prompt_tokens,
  SUM(output_tokens) AS output_tokens,
  DATE_DIFF(MICROSECOND, MIN(started_at), MAX(ended_at)) / 1000.0 AS latency_ms,
  argMax(ttft_ms, attempt_index) AS final_ttft_ms
FROM attempts
GROUP BY
  logical_request_id;

CREATE TABLE IF NOT EXISTS logical_requests
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(local_day)
ORDER BY logical_request_id
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM logical_requests__logic;
