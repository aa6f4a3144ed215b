-- grain: one local day x provider x served model x task x team x key
-- key: local_day, provider, model, task, team, key_hash
-- materialize: table
-- incremental: local_day
-- model is the canonical model. Spend is NULL where no attempt of the row has a price, never
-- $0: priced_attempts and unpriced_attempts say how much of it is known.
SELECT
    local_day,
    local_week,
    local_month,
    provider,
    model,
    task,
    team,
    key_hash,
    count(*) AS attempts,
    count(*) FILTER (WHERE status = 'success') AS successes,
    count(DISTINCT logical_request_id) AS logical_requests,
    sum(cost_usd) AS spend_usd,
    sum(cost_usd) FILTER (WHERE status <> 'success') AS spend_on_failures_usd,
    count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
    count(*) FILTER (WHERE cost_basis <> 'unpriced') AS priced_attempts,
    count(*) FILTER (WHERE cost_basis <> 'unpriced' AND status = 'success') AS priced_successes,
    count(*) FILTER (WHERE cost_basis = 'unpriced' AND status <> 'success')
        AS unpriced_failed_attempts,
    count(*) FILTER (WHERE cost_basis = 'not_billed') AS not_billed_attempts,
    sum(prompt_tokens) AS prompt_tokens,
    sum(output_tokens) AS output_tokens
FROM attempts
GROUP BY ALL
