-- grain: one (UTC day, provider) whose bill drifted past bills.drift_alert_share
-- key: day, provider
-- Claimed before the alert goes out, so a provider-day's drift is alerted once however often
-- the check runs; the figures are those when it was detected.
CREATE TABLE IF NOT EXISTS bill_alerts (
    day             DATE NOT NULL,       -- UTC day of the bill
    provider        VARCHAR NOT NULL,
    billed_usd      DECIMAL(18, 9) NOT NULL,
    recomputed_usd  DECIMAL(24, 12) NOT NULL,
    drift_usd       DECIMAL(24, 12) NOT NULL,
    drift_share     DOUBLE NOT NULL,
    threshold       DOUBLE NOT NULL,
    origin          VARCHAR,             -- the origin of the largest model drift that day
    detected_at     TIMESTAMP NOT NULL,  -- UTC
    status          VARCHAR NOT NULL,    -- pending | sent | failed | recorded (no channel)
    channels        VARCHAR,
    attempts        INTEGER NOT NULL DEFAULT 0,
    detail          VARCHAR,
    PRIMARY KEY (day, provider)
);
