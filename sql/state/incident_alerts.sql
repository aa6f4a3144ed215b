-- grain: one incident claimed for an alert
-- key: incident_id
-- One row per incident (its incident_id), claimed before its alert goes out, so an incident is
-- alerted once however often the check runs. What the alert said is kept as it was when claimed
-- (summary, end_at); status says whether and where it went.
CREATE TABLE IF NOT EXISTS incident_alerts (
    incident_id  VARCHAR NOT NULL PRIMARY KEY,
    kind         VARCHAR NOT NULL,    -- error_spike | rate_limit_storm | p95_regression | price_change | unpriced_model
    provider     VARCHAR,
    model        VARCHAR NOT NULL,
    start_at     TIMESTAMP NOT NULL,  -- UTC
    end_at       TIMESTAMP NOT NULL,  -- UTC, when claimed (an incident may grow after)
    summary      VARCHAR NOT NULL,    -- how big, in words, when claimed
    page         VARCHAR NOT NULL,    -- the dashboard page that shows it
    detected_at  TIMESTAMP NOT NULL,  -- UTC
    status       VARCHAR NOT NULL,    -- pending | sent | failed | recorded (no channel configured)
    channels     VARCHAR,             -- where it went: email, webhook
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       VARCHAR
);
