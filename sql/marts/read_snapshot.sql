-- grain: one row
-- key: (none)
-- published_at: when the read snapshot the reader has open was published (UTC), NULL when it
-- reads the warehouse itself. A reader opens the snapshot while a writer holds the warehouse.
SELECT max(published_at) AS published_at FROM snapshot_published
