-- generated from sql/marts/attempts.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one attempt
-- key: attempt_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW attempts__logic AS
WITH priced AS (
  SELECT
    *
  FROM int_attempts_priced
), keys AS (
  SELECT
    logical_request_id,
    attempt_id,
    started_at,
    ended_at,
    source_attempt_index
  FROM stg_gateway__attempts
), ordered AS (
  SELECT
    logical_request_id,
    attempt_id,
    ROW_NUMBER() OVER w AS attempt_index,
    toInt64(COUNT(*) OVER (PARTITION BY logical_request_id)) AS attempt_count
  FROM keys
  WINDOW w AS (PARTITION BY logical_request_id ORDER BY ended_at, started_at, attempt_id)
)
SELECT
  p.*,
  o.attempt_index AS attempt_index,
  o.attempt_count AS attempt_count,
  o.attempt_index < o.attempt_count AS followed_by_another
FROM priced AS p
JOIN ordered AS o
  USING (logical_request_id, attempt_id);

CREATE TABLE IF NOT EXISTS attempts
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(local_day)
ORDER BY attempt_id
SETTINGS allow_nullable_key = 1
EMPTY AS SELECT * FROM attempts__logic;
