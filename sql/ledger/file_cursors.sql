-- grain: one log file
-- key: file
-- How far each log file has been read. Written in the same transaction as the rows it covers.
CREATE TABLE IF NOT EXISTS file_cursors (
    file          VARCHAR PRIMARY KEY,
    format        VARCHAR NOT NULL,
    head_hash     VARCHAR NOT NULL,
    offset_bytes  BIGINT NOT NULL,
    lines_read    BIGINT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
