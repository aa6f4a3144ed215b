-- The local days an incremental rebuild recomputes in day-grained marts (see derive_scope).
CREATE TABLE IF NOT EXISTS derive_scope_days (
    local_day DATE NOT NULL
);
