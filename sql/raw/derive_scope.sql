-- The logical requests an incremental rebuild of the marts recomputes. Filled and emptied inside
-- the rebuild's own transaction, so no other connection ever sees rows here; while it is empty
-- the views cover every request.
CREATE TABLE IF NOT EXISTS derive_scope (
    logical_request_id VARCHAR NOT NULL
);
