-- grain: one price source
-- key: source
-- The latest refresh of each price source. A failing source keeps its last known prices and
-- shows its error here.
WITH status AS (
    SELECT * FROM price_source_status
)
SELECT
    source,
    status,
    last_success_at,
    last_attempt_at,
    models,
    changed,
    pending_review,
    error,
    last_refresh_id
FROM status
