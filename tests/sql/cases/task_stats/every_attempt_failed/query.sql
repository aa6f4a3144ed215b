SELECT * FROM task_stats('2026-03-01', '2026-03-31')
