SELECT * FROM model_task_stats('2026-03-02', '2026-03-02')
