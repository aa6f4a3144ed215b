-- grain: one line of the bill in force for its (provider, kind, UTC day)
-- key: provider, kind, day, line_key
-- The latest import of each (provider, kind, day) is that day's bill: an export imported again,
-- or a later export overlapping an earlier one, replaces those days instead of adding to them.
WITH lines AS (
    SELECT * FROM provider_bills
),
latest AS (
    SELECT provider, kind, day, arg_max(import_id, (imported_at, import_id)) AS import_id
    FROM lines
    GROUP BY provider, kind, day
)
SELECT
    l.import_id, l.imported_at, l.line_key, l.provider, l.kind, l.export_format, l.day,
    l.project, l.model, l.billed_model, l.token_class, l.line_item, l.service_tier,
    l.amount_usd, l.tokens, l.requests, l.empty_day, l.source_file, l.source_line
FROM lines l
JOIN latest USING (provider, kind, day, import_id)
