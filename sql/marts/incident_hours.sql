-- grain: one (local day, UTC hour, provider, model: canonical) with attempts
-- key: local_day, hour_utc, provider, model
-- materialize: table
-- incremental: local_day
-- What the incident detector counts per hour: attempts, failed attempts other than
-- rate limits (errors) and rate-limited ones. An hour is a UTC hour; in a zone with a half-hour
-- offset an hour may be split over two local days (two rows, summed by the detector).
WITH attempts AS (
    SELECT * FROM attempts
)
SELECT
    local_day,
    date_trunc('hour', started_at) AS hour_utc,
    provider,
    model,
    count(*) AS attempts,
    count(*) FILTER (WHERE status <> 'success' AND error_class IS DISTINCT FROM 'rate_limit')
        AS errors,
    count(*) FILTER (WHERE status <> 'success' AND error_class = 'rate_limit') AS rate_limited
FROM attempts
GROUP BY ALL
