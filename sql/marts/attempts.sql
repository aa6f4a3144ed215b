-- grain: one attempt
-- key: attempt_id
-- materialize: table
-- incremental: logical_request_id
-- Every attempt, labeled, priced and placed in its logical request: attempt_index (1-based, by
-- start time), attempt_count, and whether another attempt followed it (a retry or fallback).
-- The order is found on the keys alone and joined back: a window over every column is slower.
WITH priced AS (
    SELECT * FROM int_attempts_priced
),
keys AS (
    SELECT logical_request_id, attempt_id, started_at, ended_at, source_attempt_index FROM stg_gateway__attempts
),
ordered AS (
    SELECT
        logical_request_id,
        attempt_id,
        row_number() OVER w AS attempt_index,
        count(*) OVER (PARTITION BY logical_request_id) AS attempt_count
    FROM keys
    WINDOW w AS (PARTITION BY logical_request_id ORDER BY ended_at, started_at, attempt_id)
)
SELECT
    p.*,
    o.attempt_index,
    o.attempt_count,
    o.attempt_index < o.attempt_count AS followed_by_another
FROM priced p
JOIN ordered o USING (logical_request_id, attempt_id)
