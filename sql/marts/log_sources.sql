-- grain: one log source (a format of gateway logs that has been loaded at least once)
-- key: source
-- How fresh and healthy each log source is: its last successful load, the status and error of
-- its latest load, and its loads' counters summed.
WITH file_loads AS (
    SELECT * FROM file_loads
)
SELECT
    source,
    max(ended_at) FILTER (WHERE status = 'ok') AS last_success_at,
    arg_max(status, started_at) AS last_status,
    count(*) AS loads,
    sum(rows_loaded) AS rows_loaded,
    sum(duplicates) AS duplicates,
    sum(quarantined) AS quarantined,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    count(*) FILTER (WHERE status = 'interrupted') AS interrupted,
    arg_max(error, started_at) FILTER (WHERE error IS NOT NULL) AS last_error
FROM file_loads
GROUP BY source
