-- grain: one (local month, budget scope, threshold)
-- key: month, scope, scope_value, threshold
-- One row per (local month, budget scope, threshold): claimed before the alert goes out, so an
-- alert is sent once a month however often the check runs. basis says which figure crossed first:
-- month-to-date spend (actual) or its linear projection to the month's end (projected).
CREATE TABLE IF NOT EXISTS budget_alerts (
    month          DATE NOT NULL,       -- first local day of the month
    scope          VARCHAR NOT NULL,    -- total | team | task
    scope_value    VARCHAR NOT NULL,    -- the team or task; '' for total
    threshold      DOUBLE NOT NULL,     -- share of the budget, e.g. 0.8
    basis          VARCHAR NOT NULL,    -- actual | projected
    budget_usd     DECIMAL(18, 6) NOT NULL,
    spend_usd      DECIMAL(18, 6) NOT NULL,  -- month to date when detected
    projected_usd  DECIMAL(18, 6) NOT NULL,
    detected_at    TIMESTAMP NOT NULL,  -- UTC
    status         VARCHAR NOT NULL,    -- pending | sent | failed | recorded (no channel configured)
    channels       VARCHAR,             -- where it went: email, webhook
    attempts       INTEGER NOT NULL DEFAULT 0,
    detail         VARCHAR,
    PRIMARY KEY (month, scope, scope_value, threshold)
);
