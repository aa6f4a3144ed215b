-- grain: one row: the last build of the materialized marts
-- key: (none: one row)
-- on schema change: recreate (a cache of the other tables, never migrated)
-- What the materialized marts were last built from, so a rebuild happens only when an input changed.
CREATE TABLE IF NOT EXISTS derived_state (
    fingerprint  VARCHAR NOT NULL,
    built_at     TIMESTAMP NOT NULL,
    seconds      DOUBLE,
    kind         VARCHAR   -- full | incremental
);
