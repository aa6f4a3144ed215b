-- grain: one task over a window of local days
-- key: task
-- macro: (since, until)
-- Cost per successful request = total cost of the task's logical requests / those that
-- succeeded (failed attempts and retries included). Retry rate = share of logical requests with
-- more than one attempt; fallback rate = share whose final served model differs from the first.
-- P95 is exact over the end-to-end latency of succeeded requests, with its n.
-- Unpriced requests (any attempt without a cost) are left out of cost per successful request,
-- numerator and denominator alike: it is computed over priced requests and shown with its
-- price_coverage (priced / all requests); below metrics.min_price_coverage, or with no priced
-- success, it is NULL and cost_unknown_reason says why (the macros rl_cost_*). spend_usd sums the known costs (NULL
-- when none is known: never $0).
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
    count(*) FILTER (WHERE priced) AS priced_requests,
    count(*) FILTER (WHERE priced AND succeeded) AS priced_succeeded,
    count(*) FILTER (WHERE priced) / count(*) AS price_coverage,
    sum(cost_usd) FILTER (WHERE priced) AS priced_spend_usd,
    count(*) FILTER (WHERE succeeded) AS latency_n,
    quantile_cont(latency_ms, [0.50, 0.95]) FILTER (WHERE succeeded) AS q,
    count(*) FILTER (WHERE retried) / count(*) AS retry_rate,
    count(*) FILTER (WHERE fell_back) / count(*) AS fallback_rate,
    sum(unpriced_attempts) AS unpriced_attempts,
    CASE WHEN count(*) FILTER (WHERE NOT succeeded) = 0 THEN 0
         ELSE sum(cost_usd) FILTER (WHERE NOT succeeded) END AS spend_on_failed_requests_usd
FROM requests
GROUP BY task
)
SELECT * EXCLUDE (q, priced_spend_usd),
    rl_cost_per_success(priced_spend_usd, priced_succeeded, price_coverage)
        AS cost_per_successful_request_usd,
    rl_cost_unknown_reason(price_coverage, priced_succeeded, 'request') AS cost_unknown_reason,
    q[1] AS p50_ms, q[2] AS p95_ms
FROM stats
