"""Delivery: e-mail through SMTP and a chat webhook, with retries; each week's report recorded.

* :func:`send_email` - ``smtplib`` with ``delivery.smtp.security`` = ``starttls`` (the default),
  ``ssl`` or ``none``; user and password from the environment variables *named* in the config;
  a multipart message: text/plain and text/html alternatives plus attachments.
* :func:`post_webhook` - a JSON POST to ``delivery.webhook_url``: Slack-compatible (``text`` and
  ``blocks``; log strings escaped for mrkdwn by :func:`slack_escape`) or generic JSON
  (``delivery.webhook_kind``).
* :func:`deliver` - both, recorded in ``report_deliveries``; the scheduler sends a week once per
  channel (``only_missing``), ``routeledger report weekly --send`` sends again on purpose. A
  channel that fails, for whatever reason, is a ``failed`` record with a one-line detail and the
  next channel is still tried: the caller shows the failures (``--json`` prints them in its one
  object), so they are logged at INFO only, never rendered twice.

Retries (tenacity, the :class:`collectors.http.RetryPolicy` of the price fetcher): a timeout, a
broken connection, HTTP 429/5xx (honouring ``Retry-After``) or an SMTP 4xx reply is retried with
exponential backoff, then a :class:`TransientSourceError`; anything else (HTTP 4xx, SMTP 5xx, a
refused login) is a :class:`TerminalSourceError` at once. A webhook URL is a secret (Slack puts
its token in the path): only its scheme and host appear in errors, logs and records.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from app import text_safety
from app.reports import queries as q
from collectors.config import Config
from collectors.errors import ConfigError, TerminalSourceError, TransientSourceError
from collectors.http import RETRY_STATUSES, RetryPolicy, create_client, parse_retry_after
from collectors.redact import describe
from collectors.warehouse import Warehouse

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 30.0
WEBHOOK_TIMEOUT = httpx.Timeout(15.0, connect=10.0)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "text/csv"


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())


def jsonable(value: Any) -> Any:
    """``value`` made JSON-serialisable, nested dicts, lists and tuples included: Decimal money
    as float, dates and datetimes as ISO strings, NaN as None, keys as strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


_MRKDWN_MARKERS = re.compile(r"([*_~`])")
WORD_JOINER = "\u2060"


def slack_escape(text: object) -> str:
    """A logged string as literal text inside Slack ``mrkdwn``:

    * on one line, its unsafe display characters (:mod:`app.text_safety`: control and bidi
      characters) and line breaks replaced by a space, so it cannot start a quote or fake a line;
    * ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;``, ``&gt;``, the escaping Slack's formatting
      reference prescribes, so it holds no link, mention or ``<!channel>``;
    * ``*``, ``_``, ``~`` and the backtick between two word joiners (U+2060, invisible): Slack
      documents no escape for them, and mrkdwn applies bold, italic, strike or code only to a
      marker standing at a word boundary, which an invisible joiner on either side prevents.

    Bare URLs, ``@name`` and ``#channel`` are left to the text object: the payload marks every
    one that carries logged strings ``verbatim`` (:func:`app.reports.render.slack_payload`)."""
    line = text_safety.one_line(text, " ")
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MRKDWN_MARKERS.sub(f"{WORD_JOINER}\\1{WORD_JOINER}", line)


def chat_message(
    title: str, lines: list[str], *, heading: str | None = None, verbatim: bool = False
) -> dict[str, Any]:
    """An alert as a chat webhook's body (Slack's blocks, with a plain ``text`` fallback):
    ``title`` as the header, each of ``lines`` a bullet; ``heading``: the fallback's first line
    when it says more than the title."""
    items = "\n".join(f"• {slack_escape(line)}" for line in lines)
    section: dict[str, Any] = {"type": "mrkdwn", "text": items[:2900]}
    if verbatim:
        section["verbatim"] = True
    return {
        "text": (heading or title) + "\n" + "\n".join(f"- {line}" for line in lines),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": section},
        ],
    }


def webhook_target(url: str) -> str:
    """The scheme and host of a webhook URL: what errors, logs and records may show of it."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    except ValueError:
        return "(a webhook URL that is not valid)"


def email_configured(cfg: Config) -> bool:
    return bool(cfg.get("delivery.smtp.host")) and bool(cfg.get("delivery.recipients"))


def webhook_configured(cfg: Config) -> bool:
    return bool(cfg.get("delivery.webhook_url"))


# -- retries --------------------------------------------------------------------------------------


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def _retry(policy: RetryPolicy, source: str, target: str, attempt: Callable[[], None]) -> int:
    """Run ``attempt`` under the policy; the number of attempts it took."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        return min(policy.base_delay * (2 ** (state.attempt_number - 1)), policy.max_delay)

    retrying = Retrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=wait,
        retry=retry_if_exception_type(_Retryable),
        sleep=policy.sleep,
        reraise=True,
        before_sleep=lambda s: log.info(
            "%s %s: attempt %d failed (%s), retrying",
            source,
            target,
            s.attempt_number,
            s.outcome.exception() if s.outcome else "?",
        ),
    )
    try:
        retrying(attempt)
    except _Retryable as e:
        raise TransientSourceError(
            source, target, f"{e.reason} after {policy.attempts} attempts"
        ) from None
    return int(retrying.statistics.get("attempt_number", 1))


# -- e-mail ---------------------------------------------------------------------------------------


def mime_message(cfg: Config, msg: Message, recipients: list[str]) -> EmailMessage:
    sender = str(cfg.get("delivery.smtp.from"))
    if not sender:
        raise ConfigError(str(cfg.file), "delivery.smtp.from", "a sender address for e-mail")
    m = EmailMessage()
    m["Subject"] = msg.subject
    m["From"] = sender
    m["To"] = ", ".join(recipients)
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    m.set_content(msg.text, subtype="plain", charset="utf-8")
    if msg.html is not None:
        m.add_alternative(msg.html, subtype="html", charset="utf-8")
    for a in msg.attachments:
        maintype, _, subtype = a.mime.partition("/")
        m.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
    return m


def _credentials(cfg: Config) -> tuple[str, str] | None:
    user_env = str(cfg.get("delivery.smtp.username_env"))
    if not user_env:
        return None
    pass_env = str(cfg.get("delivery.smtp.password_env"))
    user, password = os.environ.get(user_env), os.environ.get(pass_env) if pass_env else None
    if user is None or password is None:
        missing = user_env if user is None else (pass_env or "delivery.smtp.password_env")
        raise ConfigError(
            str(cfg.file),
            "delivery.smtp.username_env",
            f"the environment variable {missing} to be set for the SMTP login",
        )
    return user, password


def send_email(
    cfg: Config,
    msg: Message,
    recipients: list[str] | None = None,
    *,
    policy: RetryPolicy | None = None,
) -> int:
    """Send ``msg`` to ``recipients`` (default ``delivery.recipients``); attempts it took."""
    to = list(recipients or cfg.get("delivery.recipients"))
    host, port = str(cfg.get("delivery.smtp.host")), int(cfg.get("delivery.smtp.port"))
    if not host or not to:
        key = "delivery.smtp.host" if not host else "delivery.recipients"
        raise ConfigError(str(cfg.file), key, "an SMTP server and recipients for e-mail")
    security = str(cfg.get("delivery.smtp.security"))
    creds = _credentials(cfg)
    target = f"{host}:{port}"
    try:
        mime = mime_message(cfg, msg, to)
    except ValueError as e:  # a line break in an address or the sender: a header injection
        raise TerminalSourceError(
            "smtp", target, f"the message cannot be built: {type(e).__name__}: {e}"
        ) from e

    def attempt() -> None:
        try:
            if security == "ssl":
                ctx = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=ctx)
            else:
                smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if creds:
                    smtp.login(*creds)
                refused = smtp.send_message(mime, to_addrs=to)
        except smtplib.SMTPRecipientsRefused as e:
            raise TerminalSourceError("smtp", target, f"every recipient refused: {e}") from e
        except smtplib.SMTPResponseException as e:
            reply = f"SMTP {e.smtp_code} {e.smtp_error!r}"
            if 400 <= e.smtp_code < 500:
                raise _Retryable(reply) from e
            raise TerminalSourceError("smtp", target, reply) from e
        except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError) as e:
            raise _Retryable(f"{type(e).__name__}: {e}".rstrip(": ")) from e
        except (smtplib.SMTPException, ssl.SSLError, socket.gaierror, OSError) as e:
            raise TerminalSourceError("smtp", target, f"{type(e).__name__}: {e}") from e
        except UnicodeError as e:  # smtplib sends AUTH and addresses as ASCII; never echo them
            raise TerminalSourceError(
                "smtp",
                target,
                f"{type(e).__name__}: the login, the sender or a recipient is "
                "not ASCII, which this server cannot take",
            ) from e
        if refused:
            log.warning("smtp %s: refused recipients %s", target, sorted(refused))

    return _retry(policy or RetryPolicy(), "smtp", target, attempt)


# -- webhook --------------------------------------------------------------------------------------


def post_webhook(
    cfg: Config,
    payload: dict[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> int:
    """POST ``payload`` as JSON to ``delivery.webhook_url``; attempts it took."""
    url = str(cfg.get("delivery.webhook_url"))
    if not url:
        raise ConfigError(str(cfg.file), "delivery.webhook_url", "a webhook URL")
    target = webhook_target(url)
    try:
        httpx.Request("POST", url)  # what sending would build first
    except (httpx.InvalidURL, ValueError) as e:  # UnicodeError (a bad IDNA host) included
        # the type only: the message would quote the URL, a secret
        raise TerminalSourceError("webhook", target, f"not a valid URL ({type(e).__name__})") from e
    with create_client(transport, timeout=WEBHOOK_TIMEOUT) as client:

        def attempt() -> None:
            try:
                r = client.post(url, json=jsonable(payload))
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as e:
                raise _Retryable(type(e).__name__) from e
            except httpx.HTTPError as e:
                raise TerminalSourceError("webhook", target, type(e).__name__) from e
            if r.status_code in RETRY_STATUSES:
                wait = parse_retry_after(r.headers.get("Retry-After"), datetime.now(UTC))
                raise _Retryable(f"HTTP {r.status_code}", wait)
            if r.status_code >= 300:
                body = " ".join(r.text.split())[:200]
                raise TerminalSourceError("webhook", target, f"HTTP {r.status_code}: {body}")

        return _retry(policy or RetryPolicy(), "webhook", target, attempt)


# -- a week's report ------------------------------------------------------------------------------


def deliver(
    cfg: Config,
    week: str,
    message: Message,
    payload: dict[str, Any],
    *,
    trigger: str = "manual",
    only_missing: bool = False,
    recipients: list[str] | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> list[dict[str, Any]]:
    """Send a week's report on every configured channel (only those it has not reached yet when
    ``only_missing``), record each outcome, and return the records."""
    policy = policy or RetryPolicy()
    channels = []
    if recipients or email_configured(cfg):
        channels.append("email")
    if webhook_configured(cfg):
        channels.append("webhook")
    wh = Warehouse.from_config(cfg)
    if only_missing and channels:
        with wh.connect(read_only=True, fresh=True) as con:  # never deliver twice
            done = q.delivered_channels(con, week)
        channels = [c for c in channels if c not in done]
    out = []
    for channel in channels:
        to = list(recipients or cfg.get("delivery.recipients"))
        target = (
            ", ".join(to)
            if channel == "email"
            else webhook_target(str(cfg.get("delivery.webhook_url")))
        )
        row: dict[str, Any] = {
            "week": week,
            "channel": channel,
            "target": target,
            "trigger": trigger,
            "detail": None,
        }
        try:
            if channel == "email":
                row["attempts"] = send_email(cfg, message, to, policy=policy)
            else:
                row["attempts"] = post_webhook(cfg, payload, transport=transport, policy=policy)
            row["status"] = "sent"
        except Exception as e:  # noqa: BLE001  (one channel's failure, whatever it is, is a record)
            # RouteLedger's own errors as they are; anything else as its type with quoted values
            # elided (it may quote a credential or the URL); credential shapes redacted
            row["status"], row["detail"] = "failed", describe(e)
            row["attempts"] = policy.attempts if isinstance(e, TransientSourceError) else 1
            # shown by the caller (the CLI's output, job_runs, the Reports page): logged, not
            # rendered a second time on stderr
            log.info("weekly report %s: %s delivery failed: %s", week, channel, row["detail"])
        row["sent_at"] = datetime.now(UTC).replace(tzinfo=None)
        with wh.connect() as con:
            q.record_delivery(con, row)
        out.append(row)
    return out
