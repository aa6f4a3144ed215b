-- grain: one source that is not a file (a bucket prefix, LiteLLM's PostgreSQL)
-- key: source
-- Each remote source's last read, UTC: when it read and when it last read well, how far behind
-- its newest record is, what it read, and its last error (NULL when the last read was ok).
WITH reads AS (
    SELECT * FROM source_reads
)
SELECT
    source,
    kind,
    last_read_at,
    last_ok_at,
    newest_at,
    rows_last,
    rows_total,
    errors_total,
    error
FROM reads
