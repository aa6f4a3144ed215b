-- grain: one (local day, provider, model: canonical) with attempts
-- key: local_day, provider, model
-- materialize: table
-- incremental: local_day
-- A model's exact daily P95 latency over its successful attempts, with its n (latency_n), for
-- the incident detector's P95 regressions.
WITH attempts AS (
    SELECT * FROM attempts
)
SELECT
    local_day,
    provider,
    model,
    count(*) AS attempts,
    count(*) FILTER (WHERE status = 'success') AS latency_n,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE status = 'success') AS p95_ms
FROM attempts
GROUP BY ALL
