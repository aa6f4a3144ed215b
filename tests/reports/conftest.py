"""Fixtures of the report tests: a home built through the real pipeline (copied per test that
writes), a real SMTP server (aiosmtpd) and a real HTTP server, both on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from collectors import config
from collectors.http import RetryPolicy
from tests.reports.data import TOML, make_home

FAST = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2)


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("reports") / "home"
    make_home(home)
    return home


@pytest.fixture
def make_cfg(built_home: Path, tmp_path: Path) -> Callable[[str], config.Config]:
    """A private copy of the built home with ``extra`` appended to its routeledger.toml."""

    def make(extra: str = "") -> config.Config:
        home = tmp_path / "home"
        if not home.exists():
            shutil.copytree(built_home, home)
        (home / "routeledger.toml").write_text(TOML + extra, encoding="utf-8")
        return config.load(home)

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- SMTP -----------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    port: int
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


USER, PASSWORD = "reporter", "s3cret-pass"


def _authenticator(box: Mailbox) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USER
            and data.password.decode() == PASSWORD
        )
        if ok:
            box.logins.append(USER)
        return AuthResult(success=ok, handled=False)  # handled=False: the server replies 535

    return check


TLS = Path(__file__).parent / "tls"  # a test-only self-signed certificate for 127.0.0.1


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Mailbox]]:
    """Start a loopback SMTP server: security none, starttls or ssl, with AUTH LOGIN/PLAIN."""
    started: list[Controller] = []

    def start(security: str = "none") -> Mailbox:
        box = Mailbox(free_port())
        kwargs: dict[str, Any] = {"authenticator": _authenticator(box)}
        # aiosmtpd only counts STARTTLS as TLS; on an implicit-TLS (ssl) port AUTH is safe too
        kwargs["auth_require_tls"] = security == "starttls"
        if security != "none":
            cert, key = TLS / "cert.pem", TLS / "key.pem"
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            kwargs["ssl_context" if security == "ssl" else "tls_context"] = ctx
            if security == "starttls":
                kwargs["require_starttls"] = True
        controller = Controller(box, hostname="127.0.0.1", port=box.port, **kwargs)
        controller.start()
        started.append(controller)
        return box

    yield start
    for c in started:
        c.stop()


def smtp_toml(box: Mailbox, security: str = "none", recipients: str = "") -> str:
    to = recipients or '"lead@example.com", "cfo@example.com"'
    return (
        f'\n[delivery]\nrecipients = [{to}]\n\n[delivery.smtp]\nhost = "127.0.0.1"\n'
        f'port = {box.port}\nsecurity = "{security}"\nfrom = "routeledger@example.com"\n'
        'username_env = "RL_TEST_SMTP_USER"\npassword_env = "RL_TEST_SMTP_PASSWORD"\n'
    )


# -- HTTP -----------------------------------------------------------------------------------------


@dataclass
class Hook:
    url: str
    statuses: list[int]  # replies in order; the last one repeats
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Callable[..., Hook]]:
    servers: list[ThreadingHTTPServer] = []

    def start(*statuses: int) -> Hook:
        hook = Hook("", list(statuses) or [200])

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.bodies.append(json.loads(body))
                hook.paths.append(self.path)
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"upstream trouble")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        hook.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret-token"
        return hook

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def webhook_toml(hook: Hook, kind: str = "slack") -> str:
    return f'\n[delivery]\nwebhook_url = "{hook.url}"\nwebhook_kind = "{kind}"\n'
