-- grain: one delivery of one weekly report on one channel
-- key: week, channel, sent_at
-- One row per delivery of a weekly report on one channel (email or webhook). A week counts as
-- delivered on a channel once it has a 'sent' row there: the scheduler sends each week once;
-- `routeledger report weekly --send` sends again on purpose and adds a row. The webhook's URL is
-- a secret (Slack puts the token in it): only its scheme and host are kept in target.
CREATE TABLE IF NOT EXISTS report_deliveries (
    week         VARCHAR NOT NULL,    -- YYYY-Www
    channel      VARCHAR NOT NULL,    -- email | webhook
    target       VARCHAR NOT NULL,    -- recipients, comma-separated, or the webhook's scheme://host
    status       VARCHAR NOT NULL,    -- sent | failed
    attempts     INTEGER NOT NULL,
    sent_at      TIMESTAMP NOT NULL,  -- UTC
    trigger      VARCHAR NOT NULL,    -- schedule | manual
    detail       VARCHAR              -- one line: the error of a failed delivery
);
