-- grain: one price change held for review and not decided yet
-- key: review_id
-- While a review is pending the last known price stays in force;
-- `routeledger prices confirm MODEL [--source S] [--reject]` decides it.
WITH reviews AS (
    SELECT * FROM price_reviews
)
SELECT
    review_id,
    detected_at,
    source,
    provider,
    model_id,
    kind,
    detail,
    refresh_id
FROM reviews
WHERE status = 'pending'
