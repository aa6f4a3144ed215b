-- grain: one (price refresh run, source)
-- key: refresh_id, source
-- One row per (price refresh run, source): what was fetched and how it ended. Observations of a
-- refresh are written in the same transaction as its 'ok' row, so a refresh is whole or absent.
CREATE TABLE IF NOT EXISTS price_refreshes (
    refresh_id      VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,  -- UTC
    observed_at     TIMESTAMP NOT NULL,  -- UTC; stamped on every observation of the refresh
    status          VARCHAR NOT NULL,    -- ok | unchanged | failed
    models          INTEGER NOT NULL DEFAULT 0,
    observations    INTEGER NOT NULL DEFAULT 0,
    content_sha256  VARCHAR,
    origin          VARCHAR,             -- the URL or file read
    error           VARCHAR,
    PRIMARY KEY (refresh_id, source)
);
