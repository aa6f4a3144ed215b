SELECT * FROM model_task_stats('2026-03-01', '2026-03-31') ORDER BY model
