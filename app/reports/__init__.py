"""The weekly cost report and the budget alerts.

::

    publish.py   weekly(): build, save and deliver one week's report; the saved reports
    build.py     the week's figures from the marts (queries.py holds every SQL string)
    render.py    mail-safe escaped HTML, plain text, the model x task CSV, JSON, chat payloads
    deliver.py   SMTP and chat webhook with retries; each delivery recorded (report_deliveries)
    alerts.py    monthly budgets; each threshold alerted once a month (budget_alerts)
    money.py     how every format tells money: unpriced never $0, partial figures, cost per
                 success with its price coverage, the billing policy of failed attempts

:func:`weekly` is what ``routeledger report weekly`` and the scheduler's report job call: it
builds one week's report, saves ``report.html``, ``report.txt``, ``models_by_task.csv`` and
``report.json`` to ``<home>/reports/<YYYY-Www>/`` and, when asked, delivers it. This package
only re-exports it (and :func:`past_reports`, :func:`report_dir`, :class:`WeeklyResult`) from
:mod:`app.reports.publish`; no module of the package imports it.
"""

from app.reports.publish import WeeklyResult, past_reports, report_dir, weekly

__all__ = ["WeeklyResult", "past_reports", "report_dir", "weekly"]
