-- grain: one task over a window of local days
-- key: task
-- macro: (since, until)
-- Cost per successful request = total cost of the task's logical requests / those that
-- succeeded (failed attempts and retries included). Retry rate = share of logical requests with
-- more than one attempt; fallback rate = share whose final served model differs from the first.
-- P95 is exact over the end-to-end latency of succeeded requests, with its n.
WITH requests AS (
    SELECT * FROM logical_requests
    WHERE local_day >= CAST(since AS DATE) AND local_day <= CAST(until AS DATE)
),
stats AS (
SELECT
    task,
    count(*) AS logical_requests,
    count(*) FILTER (WHERE succeeded) AS succeeded,
    count(*) FILTER (WHERE succeeded) / count(*) AS success_rate,
    wilson_low(count(*) FILTER (WHERE succeeded), count(*)) AS success_rate_low,
    wilson_high(count(*) FILTER (WHERE succeeded), count(*)) AS success_rate_high,
    sum(cost_usd) AS spend_usd,  -- NULL when nothing in the group has a price: never $0
    CASE WHEN count(*) FILTER (WHERE succeeded) > 0
         THEN sum(cost_usd) / count(*) FILTER (WHERE succeeded) END
        AS cost_per_successful_request_usd,
    count(*) FILTER (WHERE succeeded) AS latency_n,
    quantile_cont(latency_ms, [0.50, 0.95]) FILTER (WHERE succeeded) AS q,
    count(*) FILTER (WHERE retried) / count(*) AS retry_rate,
    count(*) FILTER (WHERE fell_back) / count(*) AS fallback_rate,
    sum(unpriced_attempts) AS unpriced_attempts,
    coalesce(sum(cost_usd) FILTER (WHERE NOT succeeded), 0) AS spend_on_failed_requests_usd
FROM requests
GROUP BY task
)
SELECT * EXCLUDE (q), q[1] AS p50_ms, q[2] AS p95_ms
FROM stats
