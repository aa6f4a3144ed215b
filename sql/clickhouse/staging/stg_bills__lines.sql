-- generated from sql/staging/stg_bills__lines.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one line of the bill in force for its (provider, kind, UTC day)
-- key: provider, kind, day, line_key
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW stg_bills__lines AS
WITH lines AS (
  SELECT
    *
  FROM provider_bills
), latest AS (
  SELECT
    provider,
    kind,
    day,
    argMax(import_id, (imported_at, import_id)) AS import_id
  FROM lines
  GROUP BY
    provider,
    kind,
    day
)
SELECT
  l.import_id AS import_id,
  l.imported_at AS imported_at,
  l.line_key AS line_key,
  l.provider AS provider,
  l.kind AS kind,
  l.export_format AS export_format,
  l.day AS day,
  l.project AS project,
  l.model AS model,
  l.billed_model AS billed_model,
  l.token_class AS token_class,
  l.line_item AS line_item,
  l.service_tier AS service_tier,
  l.amount_usd AS amount_usd,
  l.tokens AS tokens,
  l.requests AS requests,
  l.empty_day AS empty_day,
  l.source_file AS source_file,
  l.source_line AS source_line
FROM lines AS l
JOIN latest
  USING (provider, kind, day, import_id);
