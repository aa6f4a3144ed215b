-- grain: one run of one job
-- key: job, started_at
-- Scheduler and CLI job outcomes, for the data-health page.
CREATE TABLE IF NOT EXISTS job_runs (
    job          VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP,
    status       VARCHAR NOT NULL,
    detail       VARCHAR
);
