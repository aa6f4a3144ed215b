-- grain: one run of one scheduled or CLI job
-- key: job, started_at
-- Each job run and how it ended (status, one-line detail), UTC.
WITH runs AS (
    SELECT * FROM job_runs
)
SELECT
    job,
    started_at,
    ended_at,
    status,
    detail
FROM runs
