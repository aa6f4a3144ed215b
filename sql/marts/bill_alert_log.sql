-- grain: one (UTC day, provider) bill drift alert
-- key: day, provider
-- Every bill drift alert claimed, and whether and where it went (status, channels, detail).
WITH alerts AS (
    SELECT * FROM bill_alerts
)
SELECT
    day,
    provider,
    billed_usd,
    recomputed_usd,
    drift_usd,
    drift_share,
    threshold,
    origin,
    detected_at,
    status,
    channels,
    attempts,
    detail
FROM alerts
