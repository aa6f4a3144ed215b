-- grain: one local day an incremental rebuild recomputes
-- key: local_day
-- on schema change: recreate (a cache of the other tables, never migrated)
-- The local days an incremental rebuild recomputes in day-grained marts (see derive_scope).
CREATE TABLE IF NOT EXISTS derive_scope_days (
    local_day DATE NOT NULL
);
