-- grain: one logical request an incremental rebuild recomputes
-- key: logical_request_id
-- on schema change: recreate (a cache of the other tables, never migrated)
-- The logical requests an incremental rebuild of the marts recomputes. Filled and emptied inside
-- the rebuild's own transaction, so no other connection ever sees rows here; the views read it
-- only while that connection has set the variable rl_derive_scope.
CREATE TABLE IF NOT EXISTS derive_scope (
    logical_request_id VARCHAR NOT NULL
);
