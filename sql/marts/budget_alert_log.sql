-- grain: one (local month, budget scope, threshold) alert
-- key: month, scope, scope_value, threshold
-- Every budget alert claimed, and whether and where it went (status, channels, detail).
WITH alerts AS (
    SELECT * FROM budget_alerts
)
SELECT
    month,
    scope,
    scope_value,
    threshold,
    basis,
    budget_usd,
    spend_usd,
    projected_usd,
    detected_at,
    status,
    channels,
    attempts,
    detail
FROM alerts
