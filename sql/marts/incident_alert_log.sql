-- grain: one incident claimed for an alert
-- key: incident_id
-- Every incident alert claimed, what it said, and whether and where it went (status, channels,
-- attempts, detail).
WITH alerts AS (
    SELECT * FROM incident_alerts
)
SELECT
    incident_id,
    kind,
    provider,
    model,
    start_at,
    end_at,
    summary,
    page,
    detected_at,
    status,
    channels,
    attempts,
    detail
FROM alerts
