-- grain: one (provider, served model, task) over a window of local days
-- key: provider, model, task
-- macro: (since, until)
-- Per model: cost per success = total cost of attempts on the model / successful attempts on it;
-- retry share = share of its attempts followed by another attempt; latency percentiles are exact
-- (quantile_cont, one sort for all three) over successful attempts, with their n; success rate with a 95% Wilson interval.
WITH attempts AS (
    SELECT * FROM attempts
    WHERE local_day >= CAST(since AS DATE) AND local_day <= CAST(until AS DATE)
),
stats AS (
SELECT
    provider,
    served_model AS model,
    task,
    count(*) AS attempts,
    count(*) FILTER (WHERE status = 'success') AS successes,
    count(*) FILTER (WHERE status = 'success') / count(*) AS success_rate,
    wilson_low(count(*) FILTER (WHERE status = 'success'), count(*)) AS success_rate_low,
    wilson_high(count(*) FILTER (WHERE status = 'success'), count(*)) AS success_rate_high,
    sum(cost_usd) AS spend_usd,  -- NULL when nothing in the group has a price: never $0
    CASE WHEN count(*) FILTER (WHERE status = 'success') > 0
         THEN sum(cost_usd) / count(*) FILTER (WHERE status = 'success') END
        AS cost_per_success_usd,
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
GROUP BY provider, served_model, task
)
SELECT * EXCLUDE (q), q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM stats
