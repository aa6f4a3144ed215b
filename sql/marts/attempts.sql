-- grain: one attempt
-- key: attempt_id
-- materialize: table
-- incremental: logical_request_id
-- Every attempt, labeled, priced and placed in its logical request: attempt_index (1-based, by
-- start time), attempt_count, and whether another attempt followed it (a retry or fallback).
WITH priced AS (
    SELECT * FROM int_attempts_priced
)
SELECT
    *,
    row_number() OVER w AS attempt_index,
    count(*) OVER (PARTITION BY logical_request_id) AS attempt_count,
    row_number() OVER w < count(*) OVER (PARTITION BY logical_request_id) AS followed_by_another
FROM priced
WINDOW w AS (PARTITION BY logical_request_id ORDER BY started_at, attempt_id)
