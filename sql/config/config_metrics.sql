-- grain: one row: the configured metric settings
-- key: (none: one row)
-- [metrics] of routeledger.toml, copied here before each rebuild: the share of requests that
-- must be priced for a cost per successful request to be shown (below it: unknown).
CREATE TABLE IF NOT EXISTS config_metrics (
    min_price_coverage  DOUBLE NOT NULL
);
