-- grain: one delivery of one weekly report on one channel
-- key: week, channel, sent_at
-- Every delivery, sent or failed; target is the recipients or the webhook's scheme://host only.
WITH deliveries AS (
    SELECT * FROM report_deliveries
)
SELECT
    week,
    channel,
    target,
    status,
    attempts,
    sent_at,
    trigger,
    detail
FROM deliveries
