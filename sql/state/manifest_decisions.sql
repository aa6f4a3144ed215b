-- grain: one decision on a tuner proposal
-- key: decision_id
-- The audit trail of the tuner: who approved, rejected or rolled back which proposal, when, on
-- which evidence. proposal is the `routeledger tune --json` object the decision was made on.
CREATE TABLE IF NOT EXISTS manifest_decisions (
    decision_id    VARCHAR NOT NULL PRIMARY KEY,
    decided_at     TIMESTAMP NOT NULL,  -- UTC
    decision       VARCHAR NOT NULL,    -- approved | rejected | rolled_back
    decided_by     VARCHAR NOT NULL,
    auth           VARCHAR NOT NULL,    -- local | password | oidc | cli
    comment        VARCHAR,
    manifest_path  VARCHAR NOT NULL,
    previous_sha256 VARCHAR,            -- the file on disk when the decision was made
    proposed_sha256 VARCHAR NOT NULL,   -- the text approved, rejected or restored
    window_since   DATE,
    window_until   DATE,
    proposal       VARCHAR,             -- JSON
    version        INTEGER              -- the manifest_versions row written, if any
);
