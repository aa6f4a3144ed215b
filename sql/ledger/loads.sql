-- grain: one (ingest run, file)
-- key: load_id
-- One row per (ingest run, file). Counters are updated in the same transaction as each batch of
-- rows, so they always agree with raw_attempts; a run killed mid-file is left 'running' and
-- marked 'interrupted' by the next run (the batches it committed stay valid).
CREATE TABLE IF NOT EXISTS loads (
    load_id        VARCHAR PRIMARY KEY,
    run_id         VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    file           VARCHAR NOT NULL,
    started_at     TIMESTAMP NOT NULL,
    ended_at       TIMESTAMP,
    status         VARCHAR NOT NULL,
    rows_loaded    BIGINT NOT NULL DEFAULT 0,
    duplicates     BIGINT NOT NULL DEFAULT 0,
    quarantined    BIGINT NOT NULL DEFAULT 0,
    bytes_read     BIGINT NOT NULL DEFAULT 0,
    skipped        BIGINT NOT NULL DEFAULT 0,
    pid            INTEGER,
    error          VARCHAR
);
