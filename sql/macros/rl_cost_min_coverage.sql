-- grain: a scalar macro (no rows)
-- key: (none)
-- metrics.min_price_coverage of routeledger.toml (config_metrics; 0.8 when never copied): the
-- share of requests (or attempts) that must be priced for a cost per success to be shown.
CREATE OR REPLACE MACRO rl_cost_min_coverage() AS
    (SELECT coalesce(max(min_price_coverage), 0.8) FROM config_metrics);
