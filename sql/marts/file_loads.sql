-- grain: one load (one ingest run reading one log file)
-- key: load_id
-- Every load of a log file, newest state of its counters: status running | ok | failed |
-- interrupted (a run killed mid-file; the batches it committed stay valid).
WITH loads AS (
    SELECT * FROM loads
)
SELECT
    load_id,
    run_id,
    source,
    file,
    started_at,
    ended_at,
    status,
    rows_loaded,
    duplicates,
    quarantined,
    bytes_read,
    skipped,
    error
FROM loads
