-- grain: one row in a read snapshot (collectors/warehouse/snapshot.py); none in the warehouse
-- key: (none)
-- When the read snapshot was published (UTC): written into the copy only, so a reader can tell
-- it is reading the snapshot while a writer holds the warehouse.
CREATE TABLE IF NOT EXISTS snapshot_published (
    published_at TIMESTAMP NOT NULL
);
