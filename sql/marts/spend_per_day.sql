-- grain: one local day x provider x served model x task x team x key
-- key: local_day, provider, model, task, team, key_hash
-- materialize: table
-- incremental: local_day
SELECT
    local_day,
    local_week,
    local_month,
    provider,
    served_model AS model,
    task,
    team,
    key_hash,
    count(*) AS attempts,
    count(*) FILTER (WHERE status = 'success') AS successes,
    count(DISTINCT logical_request_id) AS logical_requests,
    coalesce(sum(cost_usd), 0) AS spend_usd,
    coalesce(sum(cost_usd) FILTER (WHERE status <> 'success'), 0) AS spend_on_failures_usd,
    count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
    sum(prompt_tokens) AS prompt_tokens,
    sum(output_tokens) AS output_tokens
FROM attempts
GROUP BY ALL
