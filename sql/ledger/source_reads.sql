-- grain: one source that is not a file ([[sources]] url or dsn_env, the OTLP/HTTP receiver)
-- key: source
-- Each remote source's last read, for Data health and for its own incremental cursor. Written by
-- collectors.remote after the read's data is durably in the spool.
CREATE TABLE IF NOT EXISTS source_reads (
    source        VARCHAR PRIMARY KEY,   -- Source.label
    kind          VARCHAR NOT NULL,      -- bucket | postgres | receiver
    last_read_at  TIMESTAMP,             -- UTC, the last read that ended (ok or failed)
    last_ok_at    TIMESTAMP,             -- UTC, the last read that ended ok
    newest_at     TIMESTAMP,             -- UTC, the newest record's time seen so far (lag = now - this)
    rows_last     BIGINT NOT NULL DEFAULT 0,  -- records (rows, objects, spans) the last read spooled
    rows_total    BIGINT NOT NULL DEFAULT 0,
    errors_total  BIGINT NOT NULL DEFAULT 0,
    error         VARCHAR,               -- the last read's error in one line; NULL when ok
    cursor        VARCHAR                -- the source's own position (JSON), read back next time
);
