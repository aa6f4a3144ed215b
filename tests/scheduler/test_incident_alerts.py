"""The incidents job of ``routeledger serve``: each new incident goes out once on the configured
channels (a real SMTP server and a real HTTP server on loopback), however often the job runs;
a failed delivery is retried by the next run; an old incident is history, not an alert; with
no channel nothing is claimed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from apscheduler.triggers.interval import IntervalTrigger

from app.jobs import JOBS
from app.reports import alerts
from collectors import config, scheduler
from collectors.scheduler import JobSpec
from tests.app.test_incidents import incident_rows, make_incident_home
from tests.reports.conftest import FAST, Hook, Mailbox, smtp_server, smtp_toml, webhook_toml  # noqa: F401

KINDS = {"rate_limit_storm", "p95_regression", "unpriced_model"}


def _home(tmp_path: Path, extra_toml: str) -> config.Config:
    """The planted incidents of tests/app/test_incidents.py in the ten days up to today: the
    storm two days ago, the unpriced model since yesterday, the slowdown still on; all recent."""
    first = datetime.now(UTC).date() - timedelta(days=9)
    home = make_incident_home(tmp_path / "home", incident_rows(first=first), extra_toml)
    return config.load(home)


def _claimed(cfg: config.Config) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        return con.execute(
            "SELECT kind, status, channels, attempts FROM incident_alerts ORDER BY kind"
        ).fetchall()
    finally:
        con.close()


def _run_job(cfg: config.Config) -> str:
    """The job as ``serve --once`` runs it: through the scheduler, its lock and job_runs."""
    spec = JobSpec("incidents", IntervalTrigger(minutes=5), JOBS["incidents"])
    ((name, outcome),) = scheduler.run_due(cfg, threading.Event(), [spec])
    assert name == "incidents"
    return f"{outcome.status}: {outcome.detail}"


def test_each_incident_is_sent_once_across_runs_by_webhook_and_email(
    tmp_path: Path,
    webhook: Callable[..., Hook],
    smtp_server: Callable[[str], Mailbox],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RL_TEST_SMTP_USER", "reporter")
    monkeypatch.setenv("RL_TEST_SMTP_PASSWORD", "s3cret-pass")
    hook, box = webhook(200), smtp_server("none")
    delivery = smtp_toml(box).replace("[delivery]\n", f'[delivery]\nwebhook_url = "{hook.url}"\n')
    cfg = _home(tmp_path, delivery)

    assert _run_job(cfg) == "ok: 3 new incidents, 3 alerts sent, 0 failed"
    assert _run_job(cfg) == "ok: 0 new incidents, 0 alerts sent, 0 failed"
    assert len(hook.bodies) == 1 and len(box.envelopes) == 1  # one message for the three

    text = hook.bodies[0]["text"]
    assert text.startswith("RouteLedger: 3 new incidents (times in Europe/Berlin)")
    for line in (
        "Rate-limit storm, acme / acme-large, ",
        "P95 regression, initech / ini-small, ",
        "New unpriced model, hooli / hooli-x, ",
    ):
        assert line in text
    assert "attempts rate-limited" in text and "(see Reliability)" in text
    assert hook.bodies[0]["blocks"][1]["text"]["verbatim"] is True
    mail = box.envelopes[0].original_content.decode()
    assert "Subject: RouteLedger incident:" in mail and "and 2 more" in mail
    assert "Rate-limit storm, acme / acme-large" in mail
    assert _claimed(cfg) == [(k, "sent", "webhook, email", 1) for k in sorted(KINDS)]

    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        runs = con.execute(
            "SELECT status FROM job_runs WHERE job = 'incidents' ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()
    assert runs == [("ok",), ("ok",)]


def test_a_failed_alert_is_retried_by_the_next_run_then_never_again(
    tmp_path: Path, webhook: Callable[..., Hook]
) -> None:
    hook = webhook(500, 500, 500, 200)
    cfg = _home(tmp_path, webhook_toml(hook, "json"))
    first = alerts.check_incidents(cfg, policy=FAST)
    assert (first["new"], first["sent"], first["failed"]) == (3, 0, 3)
    assert {r[1] for r in _claimed(cfg)} == {"failed"}
    second = alerts.check_incidents(cfg, policy=FAST)
    assert (second["new"], second["sent"]) == (0, 3)
    alerts.check_incidents(cfg, policy=FAST)
    assert len(hook.bodies) == 4  # 3 tries in the first run, 1 in the second, none after
    body = hook.bodies[-1]
    assert body["event"] == "incident" and {i["kind"] for i in body["incidents"]} == KINDS
    assert all(i["incident_id"] and i["text"] for i in body["incidents"])
    assert _claimed(cfg) == [(k, "sent", "webhook", 2) for k in sorted(KINDS)]


def test_an_old_incident_is_history_and_no_channel_claims_nothing(
    tmp_path: Path, webhook: Callable[..., Hook]
) -> None:
    cfg = _home(tmp_path, "")
    assert alerts.check_incidents(cfg)["channels"] is False
    assert _run_job(cfg).startswith("skipped: no webhook or e-mail configured")
    assert _claimed(cfg) == []  # claimed once a channel is configured, not before

    hook = webhook(200)
    with cfg.file.open("a", encoding="utf-8") as f:
        f.write(webhook_toml(hook))
    cfg = config.load(cfg.home)
    # a week after the data ends every incident is older than the horizon: listed, not alerted
    later = datetime.now(UTC) + alerts.INCIDENT_HORIZON + timedelta(days=2)
    assert alerts.check_incidents(cfg, later)["new"] == 0 and hook.bodies == []
    assert alerts.check_incidents(cfg)["new"] == 3 and len(hook.bodies) == 1
