-- generated from sql/intermediate/int_attempts_priced.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one attempt
-- key: attempt_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW int_attempts_priced AS
WITH attempts AS (
  SELECT
    *
  FROM int_attempts_labeled
), matches AS (
  SELECT
    *
  FROM stg_prices__model_matches
), billing AS (
  SELECT
    *
  FROM stg_config__billing
), versions AS (
  SELECT
    *
  FROM stg_prices__versions
  WHERE
    variant = 'standard'
), matched AS (
  SELECT
    a.*,
    m.priced_provider AS priced_provider,
    m.priced_model_id AS priced_model_id,
    m.match_rule AS match_rule,
    COALESCE(m.model_provider, a.provider) AS canonical_provider,
    COALESCE(m.model, a.served_model) AS model,
    m.model_snapshot AS model_snapshot
  FROM attempts AS a
  LEFT JOIN matches AS m
    ON a.provider IS NOT DISTINCT FROM m.provider
    AND a.served_model = m.logged_model
    AND a.requested_model IS NOT DISTINCT FROM m.requested_model
    AND a.base_model IS NOT DISTINCT FROM m.base_model
), chosen_id AS (
  SELECT
    t.attempt_id AS attempt_id,
    argMin(
      v.version_id,
      (
        v.source_rank,
        v.window_start_utc IS NULL,
        -v.tier_min_prompt_tokens,
        -toUnixTimestamp64Micro(v.valid_from),
        v.version_id
      )
    ) AS version_id
  FROM matched AS t
  JOIN versions AS v
    ON v.provider = t.priced_provider
    AND v.model_id = t.priced_model_id
    AND t.started_at >= v.valid_from
    AND (
      v.valid_to IS NULL OR t.started_at < v.valid_to
    )
    AND (
      v.tier_min_prompt_tokens = 0 OR t.prompt_tokens > v.tier_min_prompt_tokens
    )
    AND (
      CASE
        WHEN (
          v.window_start_utc
        ) IS NULL
        THEN TRUE
        WHEN (
          v.window_start_utc
        ) <= (
          v.window_end_utc
        )
        THEN (
          CAST(t.started_at AS Nullable(Time64(6)))
        ) >= (
          v.window_start_utc
        )
        AND (
          CAST(t.started_at AS Nullable(Time64(6)))
        ) < (
          v.window_end_utc
        )
        ELSE (
          CAST(t.started_at AS Nullable(Time64(6)))
        ) >= (
          v.window_start_utc
        )
        OR (
          CAST(t.started_at AS Nullable(Time64(6)))
        ) < (
          v.window_end_utc
        )
      END
    )
    AND (
      NOT v.weekdays_only OR toDayOfWeek(t.started_at) <= 5
    )
  GROUP BY
    t.attempt_id
), costed AS (
  SELECT
    "t"."load_id" AS load_id,
    "t"."source" AS source,
    "t"."source_file" AS source_file,
    "t"."source_line" AS source_line,
    "t"."attempt_id" AS attempt_id,
    "t"."logical_request_id" AS logical_request_id,
    "t"."source_attempt_index" AS source_attempt_index,
    "t"."started_at" AS started_at,
    "t"."ended_at" AS ended_at,
    "t"."ttft_ms" AS ttft_ms,
    "t"."latency_ms" AS latency_ms,
    "t"."provider" AS provider,
    "t"."requested_model" AS requested_model,
    "t"."served_model" AS served_model,
    "t"."deployment_id" AS deployment_id,
    "t"."base_model" AS base_model,
    "t"."task_hint" AS task_hint,
    "t"."team" AS team,
    "t"."user_id" AS user_id,
    "t"."key_hash" AS key_hash,
    "t"."key_alias" AS key_alias,
    "t"."route" AS route,
    "t"."agent_name" AS agent_name,
    "t"."conversation_id" AS conversation_id,
    "t"."prompt_tokens" AS prompt_tokens,
    "t"."fresh_input_tokens" AS fresh_input_tokens,
    "t"."cache_read_tokens" AS cache_read_tokens,
    "t"."cache_write_5m_tokens" AS cache_write_5m_tokens,
    "t"."cache_write_1h_tokens" AS cache_write_1h_tokens,
    "t"."output_tokens" AS output_tokens,
    "t"."reasoning_tokens" AS reasoning_tokens,
    "t"."input_includes_cached" AS input_includes_cached,
    "t"."output_includes_reasoning" AS output_includes_reasoning,
    "t"."has_token_counts" AS has_token_counts,
    "t"."status" AS status,
    "t"."error_class" AS error_class,
    "t"."error_type" AS error_type,
    "t"."http_status" AS http_status,
    "t"."gateway_cache_hit" AS gateway_cache_hit,
    "t"."streamed" AS streamed,
    "t"."reported_cost_usd" AS reported_cost_usd,
    "t"."validation_passed" AS validation_passed,
    "t"."quality_score" AS quality_score,
    "t"."ingested_at" AS ingested_at,
    "t"."task" AS task,
    "t"."task_source" AS task_source,
    "t"."started_local" AS started_local,
    "t"."local_day" AS local_day,
    "t"."local_week" AS local_week,
    "t"."local_month" AS local_month,
    "t"."priced_provider" AS priced_provider,
    "t"."priced_model_id" AS priced_model_id,
    "t"."match_rule" AS match_rule,
    "t"."canonical_provider" AS canonical_provider,
    "t"."model" AS model,
    "t"."model_snapshot" AS model_snapshot,
    p.version_id AS price_version_id,
    p.source AS price_source,
    CASE
      WHEN p.version_id IS NULL OR NOT t.has_token_counts
      THEN NULL
      ELSE (
        (
          t.fresh_input_tokens * COALESCE(p.input_per_mtok, 0) + t.cache_read_tokens * COALESCE(p.cached_input_per_mtok, p.input_per_mtok, 0) + t.cache_write_5m_tokens * COALESCE(p.cache_write_5m_per_mtok, p.input_per_mtok, 0) + t.cache_write_1h_tokens * COALESCE(p.cache_write_1h_per_mtok, p.cache_write_5m_per_mtok, p.input_per_mtok, 0) + CASE
            WHEN p.reasoning_per_mtok IS NULL
            THEN t.output_tokens * COALESCE(p.output_per_mtok, 0)
            ELSE (
              t.output_tokens - t.reasoning_tokens
            ) * COALESCE(p.output_per_mtok, 0) + t.reasoning_tokens * p.reasoning_per_mtok
          END
        ) * toDecimal128('0.000001', 6) + COALESCE(p.per_request, 0)
      ) * (
        1 - p.discount_pct * toDecimal128('0.01', 2)
      )
    END AS priced_cost
  FROM matched AS t
  LEFT JOIN chosen_id AS c
    USING (attempt_id)
  LEFT JOIN versions AS p
    ON p.version_id = c.version_id
), policed AS (
  SELECT
    "c"."load_id" AS load_id,
    "c"."source" AS source,
    "c"."source_file" AS source_file,
    "c"."source_line" AS source_line,
    "c"."attempt_id" AS attempt_id,
    "c"."logical_request_id" AS logical_request_id,
    "c"."source_attempt_index" AS source_attempt_index,
    "c"."started_at" AS started_at,
    "c"."ended_at" AS ended_at,
    "c"."ttft_ms" AS ttft_ms,
    "c"."latency_ms" AS latency_ms,
    "c"."provider" AS provider,
    "c"."requested_model" AS requested_model,
    "c"."served_model" AS served_model,
    "c"."deployment_id" AS deployment_id,
    "c"."base_model" AS base_model,
    "c"."task_hint" AS task_hint,
    "c"."team" AS team,
    "c"."user_id" AS user_id,
    "c"."key_hash" AS key_hash,
    "c"."key_alias" AS key_alias,
    "c"."route" AS route,
    "c"."agent_name" AS agent_name,
    "c"."conversation_id" AS conversation_id,
    "c"."prompt_tokens" AS prompt_tokens,
    "c"."fresh_input_tokens" AS fresh_input_tokens,
    "c"."cache_read_tokens" AS cache_read_tokens,
    "c"."cache_write_5m_tokens" AS cache_write_5m_tokens,
    "c"."cache_write_1h_tokens" AS cache_write_1h_tokens,
    "c"."output_tokens" AS output_tokens,
    "c"."reasoning_tokens" AS reasoning_tokens,
    "c"."input_includes_cached" AS input_includes_cached,
    "c"."output_includes_reasoning" AS output_includes_reasoning,
    "c"."has_token_counts" AS has_token_counts,
    "c"."status" AS status,
    "c"."error_class" AS error_class,
    "c"."error_type" AS error_type,
    "c"."http_status" AS http_status,
    "c"."gateway_cache_hit" AS gateway_cache_hit,
    "c"."streamed" AS streamed,
    "c"."reported_cost_usd" AS reported_cost_usd,
    "c"."validation_passed" AS validation_passed,
    "c"."quality_score" AS quality_score,
    "c"."ingested_at" AS ingested_at,
    "c"."task" AS task,
    "c"."task_source" AS task_source,
    "c"."started_local" AS started_local,
    "c"."local_day" AS local_day,
    "c"."local_week" AS local_week,
    "c"."local_month" AS local_month,
    "c"."priced_provider" AS priced_provider,
    "c"."priced_model_id" AS priced_model_id,
    "c"."match_rule" AS match_rule,
    "c"."canonical_provider" AS canonical_provider,
    "c"."model" AS model,
    "c"."model_snapshot" AS model_snapshot,
    "c"."price_version_id" AS price_version_id,
    "c"."price_source" AS price_source,
    "c"."priced_cost" AS priced_cost,
    COALESCE(bp.failed_attempts, bd.failed_attempts) AS failed_policy,
    status <> 'success'
    AND (
      COALESCE(bp.failed_attempts, bd.failed_attempts) = 'none'
      OR has(
        CASE
          WHEN bp.provider IS NULL
          THEN bd.not_billed_error_classes
          ELSE bp.not_billed_error_classes
        END,
        COALESCE(c.error_class, 'other')
      )
    ) AS not_billed
  FROM costed AS c
  CROSS JOIN (
    SELECT
      *
    FROM billing
    WHERE
      provider IS NULL
    LIMIT 1
  ) AS bd
  LEFT JOIN billing AS bp
    ON NOT (
      bp.provider IS NULL
    ) AND bp.provider = c.canonical_provider
)
SELECT
  *
  EXCEPT (priced_cost, provider, canonical_provider, failed_policy, not_billed),
  canonical_provider AS provider,
  provider AS logged_provider,
  CAST(CASE
    WHEN gateway_cache_hit
    THEN 0
    WHEN not_billed
    THEN 0
    WHEN status <> 'success'
    AND failed_policy = 'reported'
    AND NOT (
      reported_cost_usd IS NULL
    )
    THEN reported_cost_usd
    WHEN NOT (
      priced_cost IS NULL
    )
    THEN priced_cost
    ELSE reported_cost_usd
  END AS Nullable(Decimal(24, 12))) AS cost_usd,
  CASE
    WHEN gateway_cache_hit
    THEN 'cache_hit'
    WHEN not_billed
    THEN 'not_billed'
    WHEN status <> 'success'
    AND failed_policy = 'reported'
    AND NOT (
      reported_cost_usd IS NULL
    )
    THEN 'reported'
    WHEN NOT (
      priced_cost IS NULL
    )
    THEN 'computed'
    WHEN NOT (
      reported_cost_usd IS NULL
    )
    THEN 'reported'
    ELSE 'unpriced'
  END AS cost_basis,
  CASE WHEN status = 'success' THEN NULL ELSE failed_policy END AS billing_policy,
  CAST(priced_cost AS Nullable(Decimal(24, 12))) AS computed_cost_usd
FROM policed;
