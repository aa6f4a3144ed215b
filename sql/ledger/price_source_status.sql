-- grain: one price source
-- key: source
-- The latest state of each price source, for the data-health page. A failing source keeps its
-- prices (price_versions) and shows its error here.
CREATE TABLE IF NOT EXISTS price_source_status (
    source           VARCHAR NOT NULL PRIMARY KEY,
    last_attempt_at  TIMESTAMP NOT NULL,  -- UTC
    last_success_at  TIMESTAMP,
    status           VARCHAR NOT NULL,    -- ok | failed | unchanged
    models           INTEGER NOT NULL DEFAULT 0,
    changed          INTEGER NOT NULL DEFAULT 0,
    pending_review   INTEGER NOT NULL DEFAULT 0,
    error            VARCHAR,
    etag             VARCHAR,
    last_modified    VARCHAR,
    content_sha256   VARCHAR,
    last_refresh_id  VARCHAR
);
