"""Delivery through a real SMTP server (aiosmtpd) and a real HTTP server on loopback: what
arrives, retries, the week sent once, and re-sending on demand."""

from __future__ import annotations

import csv
import email
import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main
from app.reports import deliver, render, weekly
from collectors import config
from collectors.errors import TerminalSourceError, TransientSourceError
from tests.reports.conftest import FAST, PASSWORD, USER, Hook, Mailbox, smtp_toml, webhook_toml
from tests.reports.data import SCRIPT_MODEL, WEEK

CfgFactory = Callable[[str], config.Config]


@pytest.fixture(autouse=True)
def smtp_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RL_TEST_SMTP_USER", USER)
    monkeypatch.setenv("RL_TEST_SMTP_PASSWORD", PASSWORD)


def _mart_spend(cfg: config.Config, since: date, until: date) -> Decimal:
    return _mart_totals(cfg, since, until)[0]


def _mart_totals(cfg: config.Config, since: date, until: date) -> tuple[Decimal, int]:
    """(known spend, unpriced attempts) of the local days, from ``spend_per_day``."""
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        spend, unpriced = con.execute(
            "SELECT sum(spend_usd), sum(unpriced_attempts) FROM spend_per_day "
            "WHERE local_day BETWEEN ? AND ?",
            [since, until],
        ).fetchall()[0]
    finally:
        con.close()
    return spend, int(unpriced)


def _deliveries(cfg: config.Config) -> list[tuple[str, str, str, str]]:
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT week, channel, status, trigger FROM report_deliveries ORDER BY sent_at"
        ).fetchall()
    finally:
        con.close()
    return [tuple(r) for r in rows]


def _message(box: Mailbox, i: int = -1) -> EmailMessage:
    msg = email.message_from_bytes(box.envelopes[i].original_content, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_the_report_arrives_by_email_with_both_parts_and_the_csv(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], security: str
) -> None:
    box = smtp_server(security)
    cfg = make_cfg(smtp_toml(box, security))
    res = weekly(cfg, WEEK, send=True, policy=FAST)
    assert [(d["channel"], d["status"], d["attempts"]) for d in res.deliveries] == [
        ("email", "sent", 1)
    ]
    assert box.logins == [USER]
    env = box.envelopes[0]
    assert env.mail_from == "routeledger@example.com"
    assert env.rcpt_tos == ["lead@example.com", "cfo@example.com"]

    msg = _message(box)
    total, unpriced = _mart_totals(cfg, date(2026, 3, 2), date(2026, 3, 8))
    assert unpriced > 0  # umb-free: a partly priced total, its known part and the count
    figure = f"{render.usd(total)} + {unpriced:,} unpriced attempts"
    assert msg["To"] == "lead@example.com, cfo@example.com"
    assert msg["Subject"] == render.subject(res.report)
    assert msg["Subject"].startswith(f"RouteLedger weekly cost report {WEEK}: {figure} (")
    assert msg.get_content_type() == "multipart/mixed"
    alternative = msg.get_body(preferencelist=("related", "html", "plain"))
    assert alternative is not None
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert f"Spend:        {figure} (" in plain.get_content()
    html_text = html.get_content()
    assert render.usd(total) in html_text and "<script>" not in html_text
    assert f"+ {unpriced:,} unpriced attempts" in html_text
    attachments = list(msg.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        ("models_by_task.csv", "text/csv"),
        ("report.json", "application/json"),
    ]
    # report.json arrives whole: the file saved beside the report, the summary and the
    # proposal's full reasons in it (what the report's "all in report.json" points to)
    attached = attachments[1].get_content()
    doc = json.loads(attached.decode() if isinstance(attached, bytes) else attached)
    assert doc == json.loads(res.files["json"].read_text(encoding="utf-8"))
    assert doc["summary"]["lines"] == res.report["summary"]["lines"]
    assert [t["reasons"] for t in doc["proposal"]["tasks"]] == [
        t["reasons"] for t in res.report["proposal"]["tasks"]
    ]
    assert "report.json (attached to the e-mail" in html.get_content()
    first = plain.get_content().splitlines()[2:5]
    assert [
        line[: len(want)] for line, want in zip(first, res.report["summary"]["lines"], strict=True)
    ] == (res.report["summary"]["lines"])
    content = attachments[0].get_content()
    text = content.decode() if isinstance(content, bytes) else content
    rows = list(csv.DictReader(io.StringIO(text)))
    # an empty cell is unpriced, not $0: the known cells add up to the total, and the
    # unpriced_attempts column holds the rest
    assert sum(Decimal(r["spend_usd"]) for r in rows if r["spend_usd"] != "") == total
    assert sum(int(r["unpriced_attempts"]) for r in rows) == unpriced
    assert any(r["model"] == SCRIPT_MODEL for r in rows)
    assert _deliveries(cfg) == [(WEEK, "email", "sent", "manual")]


def test_a_week_is_sent_once_by_the_scheduler_and_again_on_demand(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], webhook: Callable[..., Hook]
) -> None:
    box, hook = smtp_server("none"), webhook(200)
    cfg = make_cfg(
        smtp_toml(box).replace("[delivery]\n", "[delivery]\n" + f'webhook_url = "{hook.url}"\n')
    )
    first = weekly(cfg, WEEK, scheduled=True, policy=FAST)
    again = weekly(cfg, WEEK, scheduled=True, policy=FAST)
    assert [d["channel"] for d in first.deliveries] == ["email", "webhook"]
    assert again.deliveries == []
    assert len(box.envelopes) == 1 and len(hook.bodies) == 1

    res = CliRunner().invoke(
        main,
        [
            "--home",
            str(cfg.home),
            "report",
            "weekly",
            "--week",
            WEEK,
            "--send",
            "--to",
            "boss@example.com",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [(d["channel"], d["status"]) for d in out["deliveries"]] == [
        ("email", "sent"),
        ("webhook", "sent"),
    ]
    assert out["totals"]["spend_usd"] == float(_mart_spend(cfg, date(2026, 3, 2), date(2026, 3, 8)))
    assert box.envelopes[-1].rcpt_tos == ["boss@example.com"]
    assert len(box.envelopes) == 2 and len(hook.bodies) == 2
    assert [r[1:] for r in _deliveries(cfg)] == [
        ("email", "sent", "schedule"),
        ("webhook", "sent", "schedule"),
        ("email", "sent", "manual"),
        ("webhook", "sent", "manual"),
    ]


def test_webhook_is_retried_after_a_500_and_the_slack_payload_arrives(
    make_cfg: CfgFactory, webhook: Callable[..., Hook]
) -> None:
    hook = webhook(500, 200)
    cfg = make_cfg(webhook_toml(hook))
    res = weekly(cfg, WEEK, send=True, policy=FAST)
    assert [(d["channel"], d["status"], d["attempts"]) for d in res.deliveries] == [
        ("webhook", "sent", 2)
    ]
    assert len(hook.bodies) == 2 and hook.bodies[0] == hook.bodies[1]
    body = hook.bodies[-1]
    assert set(body) == {"text", "blocks"}
    assert body["text"] == render.subject(res.report)
    assert body["blocks"][0]["type"] == "header"
    assert all(b["type"] in {"header", "section", "context"} for b in body["blocks"])
    assert "&lt;script&gt;" in json.dumps(body) and "<script>" not in json.dumps(body)
    # the token in the URL is a secret: only scheme and host are recorded
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        target = con.execute("SELECT target FROM report_deliveries").fetchall()[0][0]
    finally:
        con.close()
    assert target.startswith("http://127.0.0.1:") and "secret-token" not in target


def test_generic_json_webhook(make_cfg: CfgFactory, webhook: Callable[..., Hook]) -> None:
    hook = webhook(204)
    cfg = make_cfg(webhook_toml(hook, kind="json"))
    res = weekly(cfg, WEEK, send=True, policy=FAST)
    assert res.deliveries[0]["status"] == "sent"
    body = hook.bodies[0]
    assert body["event"] == "weekly_report" and body["week"] == WEEK
    assert body["report"]["totals"]["spend_usd"] == float(res.report["totals"]["spend_usd"])


def test_webhook_gives_up_and_the_failure_is_recorded(
    make_cfg: CfgFactory, webhook: Callable[..., Hook]
) -> None:
    hook = webhook(503)
    cfg = make_cfg(webhook_toml(hook))
    with pytest.raises(TransientSourceError) as e:
        deliver.post_webhook(cfg, {"text": "x"}, policy=FAST)
    assert "HTTP 503 after 3 attempts" in str(e.value) and "secret-token" not in str(e.value)
    assert len(hook.bodies) == 3


def test_a_4xx_is_not_retried_and_the_failure_is_recorded(
    make_cfg: CfgFactory, webhook: Callable[..., Hook]
) -> None:
    hook = webhook(404)
    cfg = make_cfg(webhook_toml(hook))
    with pytest.raises(TerminalSourceError, match="HTTP 404") as e:
        deliver.post_webhook(cfg, {"text": "x"}, policy=FAST)
    assert len(hook.bodies) == 1 and "secret-token" not in str(e.value)

    res = CliRunner().invoke(
        main, ["--home", str(cfg.home), "report", "weekly", "--week", WEEK, "--send"]
    )
    assert res.exit_code == 1  # built and saved, but not delivered
    assert "webhook" in res.output and "failed" in res.output and "HTTP 404" in res.output
    assert (cfg.home / "reports" / WEEK / "report.html").is_file()
    assert _deliveries(cfg)[-1] == (WEEK, "webhook", "failed", "manual")


def test_a_missing_credential_is_one_clear_error(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    box = smtp_server("none")
    cfg = make_cfg(smtp_toml(box))
    monkeypatch.delenv("RL_TEST_SMTP_PASSWORD")
    res = weekly(cfg, WEEK, send=True, policy=FAST)
    (d,) = res.deliveries
    assert d["status"] == "failed" and "RL_TEST_SMTP_PASSWORD" in d["detail"]
    assert box.envelopes == []


def test_a_wrong_password_is_not_retried(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    box = smtp_server("none")
    cfg = make_cfg(smtp_toml(box))
    monkeypatch.setenv("RL_TEST_SMTP_PASSWORD", "wrong")
    with pytest.raises(TerminalSourceError, match="SMTP 535"):
        deliver.send_email(cfg, deliver.Message("s", "t"), policy=FAST)
    assert box.envelopes == []


def test_usage_errors_are_one_line(make_cfg: CfgFactory) -> None:
    cfg = make_cfg("")
    runner = CliRunner()
    res = runner.invoke(
        main, ["--home", str(cfg.home), "report", "weekly", "--to", "a@example.com"]
    )
    assert res.exit_code == 2 and "--to is used with --send" in res.output
    res = runner.invoke(main, ["--home", str(cfg.home), "report", "weekly", "--week", "2026-13"])
    assert res.exit_code == 2 and "expected an ISO week such as 2026-W07" in res.output
    res = runner.invoke(
        main, ["--home", str(cfg.home), "report", "weekly", "--send", "--to", "x\r\nBcc: y"]
    )
    assert res.exit_code == 2 and "is not an e-mail address" in res.output
    res = runner.invoke(main, ["--home", str(cfg.home), "report", "weekly", "--send"])
    assert res.exit_code == 2 and "--send: no delivery configured" in res.output
