-- grain: one (provider, model, task) over a window of local days; model is canonical (dated
-- snapshots folded), the names the logs used are listed in logged_models
-- key: provider, model, task
-- macro: (since, until)
-- Per model: cost per success = total cost of attempts on the model / successful attempts on it;
-- retry share = share of its attempts followed by another attempt; latency percentiles are exact
-- (quantile_cont, one sort for all three) over successful attempts, with their n; success rate with a 95% Wilson interval.
-- Cost per success is over priced attempts only (cost and successes alike), shown with its
-- price_coverage; NULL below metrics.min_price_coverage, with cost_unknown_reason.
WITH attempts AS (
    SELECT * FROM attempts
    WHERE local_day >= CAST(since AS DATE) AND local_day <= CAST(until AS DATE)
),
stats AS (
SELECT
    provider,
    model,
    task,
    list(DISTINCT served_model ORDER BY served_model) AS logged_models,
    count(*) AS attempts,
    count(*) FILTER (WHERE status = 'success') AS successes,
    count(*) FILTER (WHERE status = 'success') / count(*) AS success_rate,
    wilson_low(count(*) FILTER (WHERE status = 'success'), count(*)) AS success_rate_low,
    wilson_high(count(*) FILTER (WHERE status = 'success'), count(*)) AS success_rate_high,
    sum(cost_usd) AS spend_usd,  -- NULL when nothing in the group has a price: never $0
    count(*) FILTER (WHERE cost_basis <> 'unpriced') AS priced_attempts,
    count(*) FILTER (WHERE cost_basis <> 'unpriced' AND status = 'success') AS priced_successes,
    count(*) FILTER (WHERE cost_basis <> 'unpriced') / count(*) AS price_coverage,
    count(*) FILTER (WHERE status = 'success') AS latency_n,
    quantile_cont(latency_ms, [0.50, 0.95, 0.99]) FILTER (WHERE status = 'success') AS q,
    count(ttft_ms) FILTER (WHERE status = 'success') AS ttft_n,
    quantile_cont(ttft_ms, 0.95) FILTER (WHERE status = 'success') AS ttft_p95_ms,
    count(*) FILTER (WHERE followed_by_another) / count(*) AS retry_share,
    count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
    count(*) FILTER (WHERE validation_passed IS NOT NULL) AS validated,
    avg(validation_passed::INTEGER) AS validation_pass_rate,
    avg(quality_score) AS quality_score
FROM attempts
GROUP BY provider, model, task
)
SELECT * EXCLUDE (q),
    rl_cost_per_success(spend_usd, priced_successes, price_coverage) AS cost_per_success_usd,
    rl_cost_unknown_reason(price_coverage, priced_successes, 'attempt') AS cost_unknown_reason,
    q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM stats
