-- grain: one task rule of the configuration
-- key: position
SELECT position, field, pattern, task FROM config_task_rules
