-- generated from sql/marts/model_task_stats.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one (provider, model, task) over a window of local days; model is canonical (dated
-- key: provider, model, task
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW model_task_stats AS
WITH attempts AS (
  SELECT
    *
  FROM attempts
  WHERE
    local_day >= CAST({since: String} AS Nullable(Date32))
    AND local_day <= CAST({until: String} AS Nullable(Date32))
), stats AS (
  SELECT
    provider,
    model,
    task,
    arraySort(groupUniqArray(served_model)) AS logged_models,
    toInt64(COUNT(*)) AS attempts,
    toInt64(COUNT(*) FILTER(WHERE
      status = 'success')) AS successes,
    toInt64(COUNT(*) FILTER(WHERE
      status = 'success')) / toInt64(COUNT(*)) AS success_rate,
    (
      CASE
        WHEN (
          toInt64(COUNT(*))
        ) > 0
        THEN (
          (
            (
              toInt64(COUNT(*) FILTER(WHERE
                status = 'success'))
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              2 * (
                toInt64(COUNT(*))
              )
            )
          ) - 1.96 * SQRT(
            (
              (
                toInt64(COUNT(*) FILTER(WHERE
                  status = 'success'))
              ) / (
                toInt64(COUNT(*))
              )
            ) * (
              1 - (
                toInt64(COUNT(*) FILTER(WHERE
                  status = 'success'))
              ) / (
                toInt64(COUNT(*))
              )
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              4 * (
                toInt64(COUNT(*))
              ) * (
                toInt64(COUNT(*))
              )
            )
          )
        ) / (
          1 + 1.96 * 1.96 / (
            toInt64(COUNT(*))
          )
        )
      END
    ) AS success_rate_low,
    (
      CASE
        WHEN (
          toInt64(COUNT(*))
        ) > 0
        THEN (
          (
            (
              toInt64(COUNT(*) FILTER(WHERE
                status = 'success'))
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              2 * (
                toInt64(COUNT(*))
              )
            )
          ) + 1.96 * SQRT(
            (
              (
                toInt64(COUNT(*) FILTER(WHERE
                  status = 'success'))
              ) / (
                toInt64(COUNT(*))
              )
            ) * (
              1 - (
                toInt64(COUNT(*) FILTER(WHERE
                  status = 'success'))
              ) / (
                toInt64(COUNT(*))
              )
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              4 * (
                toInt64(COUNT(*))
              ) * (
                toInt64(COUNT(*))
              )
            )
          )
        ) / (
          1 + 1.96 * 1.96 / (
            toInt64(COUNT(*))
          )
        )
      END
    ) AS success_rate_high,
    SUM(cost_usd) AS spend_usd,
    toInt64(COUNT(*) FILTER(WHERE
      cost_basis <> 'unpriced')) AS priced_attempts,
    toInt64(COUNT(*) FILTER(WHERE
      cost_basis <> 'unpriced' AND status = 'success')) AS priced_successes,
    toInt64(COUNT(*) FILTER(WHERE
      cost_basis <> 'unpriced')) / toInt64(COUNT(*)) AS price_coverage,
    toInt64(COUNT(*) FILTER(WHERE
      status = 'success')) AS latency_n,
    [
      quantileExactInclusiveOrNullIf(0.50)(latency_ms, status = 'success'),
      quantileExactInclusiveOrNullIf(0.95)(latency_ms, status = 'success'),
      quantileExactInclusiveOrNullIf(0.99)(latency_ms, status = 'success')
    ] AS q,
    toInt64(COUNT(ttft_ms) FILTER(WHERE
      status = 'success')) AS ttft_n,
    quantileExactInclusiveOrNullIf(0.95)(ttft_ms, status = 'success') AS ttft_p95_ms,
    toInt64(COUNT(*) FILTER(WHERE
      followed_by_another)) / toInt64(COUNT(*)) AS retry_share,
    toInt64(COUNT(*) FILTER(WHERE
      cost_basis = 'unpriced')) AS unpriced_attempts,
    toInt64(COUNT(*) FILTER(WHERE
      NOT (
        validation_passed IS NULL
      ))) AS validated,
    AVG(CAST(validation_passed AS Nullable(Int32))) AS validation_pass_rate,
    AVG(quality_score) AS quality_score
  FROM attempts
  GROUP BY
    provider,
    model,
    task
)
SELECT
  *
  EXCEPT (q),
  (
    CASE
      WHEN (
        price_coverage
      ) >= (
        (
          SELECT
            COALESCE(MAX(min_price_coverage), 0.8)
          FROM config_metrics
        )
      )
      AND (
        priced_successes
      ) > 0
      THEN toFloat64((
        spend_usd
      )) / toFloat64((
        priced_successes
      ))
    END
  ) AS cost_per_success_usd,
  (
    CASE
      WHEN (
        price_coverage
      ) < (
        (
          SELECT
            COALESCE(MAX(min_price_coverage), 0.8)
          FROM config_metrics
        )
      )
      THEN printf(
        'only %d%% of %ss priced',
        CAST(FLOOR((
          price_coverage
        ) * 100) AS Nullable(Int32)),
        (
          'attempt'
        )
      )
      WHEN (
        priced_successes
      ) = 0
      THEN printf('no priced %s succeeded', (
        'attempt'
      ))
    END
  ) AS cost_unknown_reason,
  q[1] AS p50_ms,
  q[2] AS p95_ms,
  q[3] AS p99_ms
FROM stats;
