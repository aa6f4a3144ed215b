-- grain: one distinct logged model
-- key: provider, logged_model, requested_model, base_model
-- on schema change: recreate (rebuilt from raw_attempts and price_versions on every refresh)
-- How each distinct logged model resolves to a priced model. Rebuilt by
-- collectors/prices/match.py from raw_attempts (provider, served_model, requested_model,
-- base_model) and price_versions. Join attempts on provider, served_model = logged_model,
-- requested_model and base_model with IS NOT DISTINCT FROM (any of them may be NULL).
-- priced_model_id NULL = unmatched, with the reason. model_provider / model / model_snapshot:
-- the canonical identity every surface shows (collectors.prices.naming.identity: provider slug,
-- name without prefix or dated snapshot), the snapshot kept as detail.
CREATE TABLE IF NOT EXISTS model_matches (
    provider          VARCHAR,
    logged_model      VARCHAR NOT NULL,
    requested_model   VARCHAR,
    base_model        VARCHAR,
    priced_provider   VARCHAR,
    priced_model_id   VARCHAR,
    match_rule        VARCHAR NOT NULL,  -- exact | alias | prefix | version_suffix | base_model | catalog_matcher | requested_model | model_only | provider_model | unmatched
    reason            VARCHAR NOT NULL,
    model_provider    VARCHAR,
    model             VARCHAR,
    model_snapshot    VARCHAR,
    matched_at        TIMESTAMP NOT NULL
);
