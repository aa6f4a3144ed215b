"""Issue 15, item 8: `report weekly --send --json` always prints exactly one JSON object, the
delivery failures inside it, and renders each failure once.

It used to end with an error line and no JSON when a channel failed in a way the delivery code
did not expect: an SMTP login that is not ASCII (smtplib's UnicodeEncodeError), a line break in
a configured address (the e-mail library's ValueError), a webhook host httpx cannot encode
(IDNAError). The other channel was then never tried and nothing was recorded. And a failure
that was handled was printed twice: in the command's output and as a WARNING on stderr.

The real CLI runs in its own process against a real SMTP server (aiosmtpd) and a real HTTP
server, both on loopback (the fixtures of ``conftest.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from collectors import config
from tests.reports.conftest import PASSWORD, USER, Hook, Mailbox, smtp_toml
from tests.reports.data import WEEK

ROOT = Path(__file__).resolve().parents[2]
CfgFactory = Callable[[str], config.Config]


def both(box: Mailbox, url: str, recipients: str = "") -> str:
    """routeledger.toml lines for e-mail through ``box`` and the webhook ``url``."""
    smtp = smtp_toml(box, recipients=recipients)
    return smtp.replace("\n\n[delivery.smtp]", f'\nwebhook_url = "{url}"\n\n[delivery.smtp]', 1)


def send(cfg: config.Config, *extra: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    env = dict(os.environ, RL_TEST_SMTP_USER=USER, RL_TEST_SMTP_PASSWORD=password)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(cfg.home), "report", "weekly",
         "--week", WEEK, "--send", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip


def one_json_object(p: subprocess.CompletedProcess) -> dict:
    """stdout is exactly one JSON object; stderr has no error line and no traceback."""
    assert p.returncode == 1, (p.returncode, p.stdout[-500:], p.stderr[-2000:])  # not delivered
    out = json.loads(p.stdout)  # one document, nothing before or after it
    assert isinstance(out, dict) and out["week"] == WEEK
    assert p.stderr.strip() == "", p.stderr[-2000:]
    return out


def recorded(cfg: config.Config) -> list[tuple[str, str]]:
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT channel, status FROM report_deliveries ORDER BY sent_at, channel"
        ).fetchall()
    finally:
        con.close()
    return [(str(c), str(s)) for c, s in rows]


def test_a_login_smtplib_cannot_send_is_a_failed_delivery_in_the_json(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], webhook: Callable[..., Hook]
) -> None:
    box, hook = smtp_server("none"), webhook(200)
    cfg = make_cfg(both(box, hook.url))
    p = send(cfg, "--json", password="pässwörd-with-umlauts")
    out = one_json_object(p)
    by = {d["channel"]: d for d in out["deliveries"]}
    assert by["email"]["status"] == "failed" and "UnicodeEncodeError" in by["email"]["detail"]
    assert "pässwörd" not in p.stdout  # the password is never echoed
    assert by["webhook"]["status"] == "sent" and len(hook.bodies) == 1  # still tried
    assert box.envelopes == []
    assert sorted(recorded(cfg)) == [("email", "failed"), ("webhook", "sent")]


def test_a_webhook_host_httpx_cannot_encode_is_a_failed_delivery_in_the_json(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox]
) -> None:
    box = smtp_server("none")
    url = "http://xn--zz/services/T000/B000/secret-token"  # passes the config check
    cfg = make_cfg(both(box, url))
    p = send(cfg, "--json")
    out = one_json_object(p)
    by = {d["channel"]: d for d in out["deliveries"]}
    assert by["email"]["status"] == "sent" and len(box.envelopes) == 1
    assert by["webhook"]["status"] == "failed" and "not a valid URL" in by["webhook"]["detail"]
    assert "secret-token" not in p.stdout + p.stderr
    assert sorted(recorded(cfg)) == [("email", "sent"), ("webhook", "failed")]


def test_a_line_break_in_a_configured_address_is_a_failed_delivery_in_the_json(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], webhook: Callable[..., Hook]
) -> None:
    box, hook = smtp_server("none"), webhook(200)
    injected = '"lead@example.com\\r\\nBcc: someone-else@example.com"'
    cfg = make_cfg(both(box, hook.url, injected))
    p = send(cfg, "--json")
    out = one_json_object(p)
    by = {d["channel"]: d for d in out["deliveries"]}
    assert by["email"]["status"] == "failed" and "cannot be built" in by["email"]["detail"]
    assert box.envelopes == []  # no header injected into anything sent
    assert by["webhook"]["status"] == "sent"


def test_without_json_a_failure_is_shown_once(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], webhook: Callable[..., Hook]
) -> None:
    box, hook = smtp_server("none"), webhook(404)
    cfg = make_cfg(both(box, hook.url))
    p = send(cfg)
    assert p.returncode == 1, p.stderr
    assert p.stdout.count("HTTP 404") == 1 and "webhook" in p.stdout and "failed" in p.stdout
    assert p.stderr.strip() == "", p.stderr  # not repeated as a log line
    assert "sent by email to lead@example.com, cfo@example.com: sent" in p.stdout
