-- grain: one logical request (all attempts sharing a logical request id)
-- key: logical_request_id
-- materialize: table
-- incremental: logical_request_id
-- Succeeded = its last attempt succeeded; cost = the sum of its attempts' costs (unpriced
-- attempts are counted, never summed as 0); latency = first start to last end; fallback = the
-- final model differs from the first attempt's. Models are canonical (a dated snapshot is the
-- same model: a retry on gpt-4o-mini-2024-07-18 after gpt-4o-mini is no fallback). priced: every
-- attempt has a cost; cost per successful request is computed over priced requests only.
-- Task, team, agent name and conversation id are the first attempt's (the first that has one).
-- final_error_class: the last attempt's error class (NULL when it succeeded).
WITH attempts AS (
    SELECT * FROM attempts
    WHERE getvariable('rl_derive_scope') IS NULL  -- see stg_gateway__attempts
       OR logical_request_id IN (SELECT logical_request_id FROM derive_scope)
)
SELECT
    logical_request_id,
    greatest(count(*), max(source_attempt_index)) AS attempts,
    greatest(count(*), max(source_attempt_index)) - count(*) AS unlogged_attempts,
    min(started_at) AS started_at,
    max(ended_at) AS ended_at,
    arg_min(local_day, attempt_index) AS local_day,
    arg_min(local_week, attempt_index) AS local_week,
    arg_min(local_month, attempt_index) AS local_month,
    arg_min(task, attempt_index) AS task,
    arg_min(team, attempt_index) AS team,
    arg_min(agent_name, attempt_index) AS agent_name,
    arg_min(conversation_id, attempt_index) AS conversation_id,
    arg_min(requested_model, attempt_index) AS requested_model,
    arg_min(provider, attempt_index) AS first_provider,
    arg_min(model, attempt_index) AS first_model,
    arg_max(provider, attempt_index) AS final_provider,
    arg_max(model, attempt_index) AS final_model,
    arg_max(status, attempt_index) AS final_status,
    arg_max(error_class, attempt_index) AS final_error_class,
    arg_max(status, attempt_index) = 'success' AS succeeded,
    -- ordered lists only where there is an order to keep: most requests have one attempt
    coalesce(list(model ORDER BY attempt_index) FILTER (WHERE attempt_count > 1),
             [arg_min(model, attempt_index)]) AS chain,
    greatest(count(*), max(source_attempt_index)) > 1 AS retried,
    arg_max(model, attempt_index) <> arg_min(model, attempt_index) AS fell_back,
    sum(cost_usd) AS cost_usd,
    count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
    count(*) FILTER (WHERE cost_basis = 'unpriced') = 0 AS priced,
    sum(prompt_tokens) AS prompt_tokens,
    sum(output_tokens) AS output_tokens,
    date_diff('microsecond', min(started_at), max(ended_at)) / 1000.0 AS latency_ms,
    arg_max(ttft_ms, attempt_index) AS final_ttft_ms
FROM attempts
GROUP BY logical_request_id
