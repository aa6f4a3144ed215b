-- grain: one attempt
-- key: attempt_id
-- Task: the default rules' task (request tag task:<name>, metadata task, OTel task attribute),
-- else the first configured rule whose field matches its glob, else 'unlabeled'. Local day,
-- week and month in the configured time zone and week start.
WITH attempts AS NOT MATERIALIZED (
    SELECT * FROM stg_gateway__attempts
),
rules AS (
    SELECT * FROM stg_config__task_rules
),
calendar AS (
    SELECT * FROM stg_config__calendar
),
rule_hits AS (
    SELECT a.attempt_id, min_by(r.task, r.position) AS rule_task
    FROM attempts a
    JOIN rules r ON (CASE r.field
        WHEN 'model_group' THEN a.requested_model
        WHEN 'key_alias' THEN a.key_alias
        WHEN 'team' THEN a.team
        WHEN 'route' THEN a.route
        WHEN 'user' THEN a.user_id
        WHEN 'model' THEN a.served_model END) GLOB r.pattern
    WHERE a.task_hint IS NULL
    GROUP BY a.attempt_id
),
labeled AS (
    SELECT
        a.*,
        coalesce(a.task_hint, h.rule_task, 'unlabeled') AS task,
        CASE WHEN a.task_hint IS NOT NULL THEN 'default'
             WHEN h.rule_task IS NOT NULL THEN 'config'
             ELSE 'none' END AS task_source,
        timezone(c.timezone, a.started_at::TIMESTAMPTZ)::TIMESTAMP AS started_local,
        c.week_start
    FROM attempts a
    LEFT JOIN rule_hits h USING (attempt_id)
    CROSS JOIN calendar c
)
SELECT
    * EXCLUDE (week_start),
    started_local::DATE AS local_day,
    rl_week_start(started_local::DATE, week_start) AS local_week,
    date_trunc('month', started_local)::DATE AS local_month
FROM labeled
