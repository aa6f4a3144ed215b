-- grain: one candidate row that could not become an attempt
-- key: load_id, source_file, source_line, candidate_index
-- Where each rejected row was, why, and its short redacted excerpt (a string from a log: data).
-- One source line may hold several candidates (a JSON document of several generations), each
-- quarantined at the same position: candidate_index numbers them (1-based). A query that does
-- not read it does not pay for it.
WITH quarantine AS (
    SELECT * FROM raw_quarantine
)
SELECT
    load_id,
    source,
    source_file,
    source_line,
    row_number() OVER (
        PARTITION BY load_id, source_file, source_line
        ORDER BY quarantined_at, reason, detail, raw_excerpt
    ) AS candidate_index,
    reason,
    detail,
    raw_excerpt,
    quarantined_at
FROM quarantine
