-- grain: one model match the marts were last built with
-- key: provider, logged_model, requested_model, base_model
-- on schema change: recreate (a cache of the other tables, never migrated)
-- The model matches the materialized marts were last fully built with: while every one of them
-- still holds, new attempts can be added incrementally; a changed match forces a full rebuild.
CREATE TABLE IF NOT EXISTS derived_matches (
    provider         VARCHAR,
    logged_model     VARCHAR NOT NULL,
    requested_model  VARCHAR,
    base_model       VARCHAR,
    priced_provider  VARCHAR,
    priced_model_id  VARCHAR,
    model_provider   VARCHAR,
    model            VARCHAR
);
