-- grain: one object of a bucket source read into the spool
-- key: source, object_key
-- The objects a bucket source ([[sources]] url) has read, by ETag, so each version is read once.
-- Written by collectors.remote.bucket after the spool file holding the object is durable. Rows of
-- date folders older than the source's horizon are dropped; its daily sweep finds late objects
-- there by their LastModified instead.
CREATE TABLE IF NOT EXISTS bucket_objects (
    source      VARCHAR NOT NULL,    -- Source.label
    object_key  VARCHAR NOT NULL,    -- the whole key, prefix included
    etag        VARCHAR NOT NULL,    -- the version read (a changed ETag is read again)
    day         DATE,                -- the key's date folder (YYYY-MM-DD); NULL when it has none
    size_bytes  BIGINT NOT NULL,
    read_at     TIMESTAMP NOT NULL,  -- UTC
    PRIMARY KEY (source, object_key)
);
