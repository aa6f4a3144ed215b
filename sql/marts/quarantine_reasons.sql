-- grain: one reason input rows were quarantined for
-- key: reason
-- How many rows each reason rejected, from how many files, first and last seen (UTC).
WITH quarantined AS (
    SELECT * FROM quarantined_rows
)
SELECT
    reason,
    count(*) AS rows,
    count(DISTINCT source_file) AS files,
    min(quarantined_at) AS first_at,
    max(quarantined_at) AS last_at
FROM quarantined
GROUP BY reason
