-- generated from sql/intermediate/int_attempts_labeled.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one attempt
-- key: attempt_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW int_attempts_labeled AS
WITH attempts AS (
  SELECT
    *
  FROM stg_gateway__attempts
), rules AS (
  SELECT
    *
  FROM stg_config__task_rules
), calendar AS (
  SELECT
    *
  FROM stg_config__calendar
), rule_hits AS (
  SELECT
    a.attempt_id AS attempt_id,
    argMin(r.task, r.position) AS rule_task
  FROM attempts AS a
  JOIN rules AS r
    ON match(
      (
        CASE r.field
          WHEN 'model_group'
          THEN a.requested_model
          WHEN 'key_alias'
          THEN a.key_alias
          WHEN 'team'
          THEN a.team
          WHEN 'route'
          THEN a.route
          WHEN 'user'
          THEN a.user_id
          WHEN 'model'
          THEN a.served_model
        END
      ),
      CONCAT(
        '^',
        replaceRegexpAll(
          replaceRegexpAll(replaceRegexpAll(r.pattern, '([.+^$(){}|\\\\])', '\\\\\\1'), '\\*', '.*'),
          '\\?',
          '.'
        ),
        '$'
      )
    )
  WHERE
    a.task_hint IS NULL
  GROUP BY
    a.attempt_id
), labeled AS (
  SELECT
    "a"."load_id" AS load_id,
    "a"."source" AS source,
    "a"."source_file" AS source_file,
    "a"."source_line" AS source_line,
    "a"."attempt_id" AS attempt_id,
    "a"."logical_request_id" AS logical_request_id,
    "a"."source_attempt_index" AS source_attempt_index,
    "a"."started_at" AS started_at,
    "a"."ended_at" AS ended_at,
    "a"."ttft_ms" AS ttft_ms,
    "a"."latency_ms" AS latency_ms,
    "a"."provider" AS provider,
    "a"."requested_model" AS requested_model,
    "a"."served_model" AS served_model,
    "a"."deployment_id" AS deployment_id,
    "a"."base_model" AS base_model,
    "a"."task_hint" AS task_hint,
    "a"."team" AS team,
    "a"."user_id" AS user_id,
    "a"."key_hash" AS key_hash,
    "a"."key_alias" AS key_alias,
    "a"."route" AS route,
    "a"."agent_name" AS agent_name,
    "a"."conversation_id" AS conversation_id,
    "a"."prompt_tokens" AS prompt_tokens,
    "a"."fresh_input_tokens" AS fresh_input_tokens,
    "a"."cache_read_tokens" AS cache_read_tokens,
    "a"."cache_write_5m_tokens" AS cache_write_5m_tokens,
    "a"."cache_write_1h_tokens" AS cache_write_1h_tokens,
    "a"."output_tokens" AS output_tokens,
    "a"."reasoning_tokens" AS reasoning_tokens,
    "a"."input_includes_cached" AS input_includes_cached,
    "a"."output_includes_reasoning" AS output_includes_reasoning,
    "a"."has_token_counts" AS has_token_counts,
    "a"."status" AS status,
    "a"."error_class" AS error_class,
    "a"."error_type" AS error_type,
    "a"."http_status" AS http_status,
    "a"."gateway_cache_hit" AS gateway_cache_hit,
    "a"."streamed" AS streamed,
    "a"."reported_cost_usd" AS reported_cost_usd,
    "a"."validation_passed" AS validation_passed,
    "a"."quality_score" AS quality_score,
    "a"."ingested_at" AS ingested_at,
    COALESCE(a.task_hint, h.rule_task, 'unlabeled') AS task,
    CASE
      WHEN NOT (
        a.task_hint IS NULL
      )
      THEN 'default'
      WHEN NOT (
        h.rule_task IS NULL
      )
      THEN 'config'
      ELSE 'none'
    END AS task_source,
    CAST(addSeconds(
      a.started_at,
      timeZoneOffset(toTimeZone(a.started_at, (
        SELECT
          timezone
        FROM stg_config__calendar
      )))
    ) AS Nullable(DateTime64(6, 'UTC'))) AS started_local,
    c.week_start AS week_start
  FROM attempts AS a
  LEFT JOIN rule_hits AS h
    USING (attempt_id)
  CROSS JOIN calendar AS c
)
SELECT
  *
  EXCEPT (week_start),
  CAST(started_local AS Nullable(Date32)) AS local_day,
  (
    CAST((
      (
        CAST(started_local AS Nullable(Date32))
      ) - toIntervalDay(
        CAST((
          (
            toDayOfWeek((
              CAST(started_local AS Nullable(Date32))
            )) - (
              week_start
            ) + 7
          ) % 7
        ) AS Nullable(Int32))
      )
    ) AS Nullable(Date32))
  ) AS local_week,
  CAST(dateTrunc('MONTH', started_local) AS Nullable(Date32)) AS local_month
FROM labeled;
