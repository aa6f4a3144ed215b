-- generated from sql/staging/stg_config__billing.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one failed-attempt billing rule (provider NULL: the default)
-- key: provider
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW stg_config__billing AS
SELECT
  provider,
  failed_attempts,
  not_billed_error_classes
FROM config_billing
UNION ALL
SELECT
  NULL,
  'usage',
  CAST([] AS Array(Nullable(String)))
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM config_billing
    WHERE
      provider IS NULL
  );
