-- grain: one stored version of a routing manifest
-- key: manifest_path, version
-- Every version of a routing manifest RouteLedger wrote or found in place, oldest first. The
-- file's bytes are kept under <home>/manifests/ (stored_path) so any version can be restored.
-- kind: baseline (the file as it was before the first approval), approved, rollback.
CREATE TABLE IF NOT EXISTS manifest_versions (
    version        INTEGER NOT NULL,    -- 1, 2, ... per manifest_path
    manifest_path  VARCHAR NOT NULL,    -- absolute path the version was written to
    sha256         VARCHAR NOT NULL,    -- of the file's bytes
    stored_path    VARCHAR NOT NULL,    -- the copy under <home>/manifests/
    kind           VARCHAR NOT NULL,
    created_at     TIMESTAMP NOT NULL,  -- UTC
    created_by     VARCHAR NOT NULL,
    comment        VARCHAR,
    restored_from  INTEGER,             -- for kind = rollback: the version restored
    PRIMARY KEY (manifest_path, version)
);
