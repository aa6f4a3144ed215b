-- grain: one input row that could not become an attempt
-- key: source_file, source_line, load_id
-- Input rows that could not become attempts: where they were, why, and a short redacted excerpt.
CREATE TABLE IF NOT EXISTS raw_quarantine (
    load_id      VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    source_line  BIGINT NOT NULL,
    reason       VARCHAR NOT NULL,
    detail       VARCHAR,
    raw_excerpt  VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
);
