"""Clickjacking (issue 15, item 1): no other origin may frame the dashboard, and a page shown in
a frame all the same changes nothing.

Here: the real server `routeledger dashboard` / `demo` start (`launch()`) sends
``X-Frame-Options: SAMEORIGIN`` and ``Content-Security-Policy: frame-ancestors 'self'`` on every
response (the page, a deep link, the health check, a static asset, an error); the middleware
itself; that server still stops quietly on Ctrl+C; and the pages' second layer under AppTest: while the browser has not said the page is
its top window, or once it said it is framed, there is nothing to approve, reject, roll back,
build or send. tests/browser/test_framing.py does it in Chromium with a hostile page.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app import dashboard_server, ui
from app.cli import dashboard as dashboard_cmd
from app.cli import demo as demo_cmd
from collectors import config
from tests.reports.conftest import Hook, webhook_toml
from tests.reports.data import WEEK
from tests.security.test_exposure import free_port

VIEWS = Path(__file__).resolve().parents[2] / "app" / "views"
XFO = "SAMEORIGIN"
CSP = "frame-ancestors 'self'"


def get(url: str) -> tuple[int, Any, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    home = tmp_path_factory.mktemp("framing") / "home"
    proc = dashboard_cmd.launch(home, dashboard_cmd.DEFAULT_HOST, port, False)
    base = f"http://127.0.0.1:{port}"
    try:
        assert dashboard_cmd.wait_healthy(base, proc, timeout=90)
        yield base
    finally:
        demo_cmd._stop(proc)


def test_every_response_forbids_framing_by_another_origin(server: str) -> None:
    status, headers, page = get(f"{server}/")
    assert status == 200 and b'id="root"' in page  # Streamlit's page
    asset = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', page)
    assert asset, page[:500]
    paths = {
        "/": 200,
        "/routing": 200,  # a deep link to the page with Approve
        "/reports": 200,
        "/_stcore/health": 200,
        "/" + asset.group(1).decode(): 200,  # a static asset
        "/favicon.png": 200,
        "/_stcore/host-config": 200,
        "/static/../../etc/passwd": 400,  # an answer of Streamlit's own path check
    }
    seen = {}
    for path in paths:
        status, headers, _ = get(server + path)
        seen[path] = (
            status,
            headers.get_all("X-Frame-Options"),
            headers.get_all("Content-Security-Policy"),
        )
    assert seen == {path: (code, [XFO], [CSP]) for path, code in paths.items()}


def test_launch_serves_the_dashboard_through_the_guarded_server() -> None:
    args = dashboard_cmd.command("127.0.0.1", 8501)
    assert args[1:4] == ["-m", "streamlit", "run"]
    assert Path(args[4]) == dashboard_cmd.SERVER == Path(dashboard_server.__file__).resolve()
    text = dashboard_cmd.SERVER.read_text(encoding="utf-8")
    assert re.search(
        r'st\.App\(\s*"dashboard\.py",\s*middleware=\[Middleware\(FrameGuard\)\]', text
    )
    assert not hasattr(dashboard_server, "app")  # imported as app.dashboard_server: no App built


def test_ctrl_c_stops_the_guarded_server_quietly(tmp_path: Path) -> None:
    """Ctrl+C reaches `routeledger dashboard` (or `demo`) and the server alike, and the command
    passes one more SIGINT on: uvicorn (under st.App) stops, with no "Aborted!" or traceback."""
    port = free_port()
    env = dict(os.environ, ROUTELEDGER_HOME=str(tmp_path / "home"))
    proc = subprocess.Popen(  # noqa: S603
        dashboard_cmd.command("127.0.0.1", port),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert dashboard_cmd.wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=90)
        proc.send_signal(signal.SIGINT)  # the terminal's
        time.sleep(0.3)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # the command's
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, -signal.SIGTERM), (proc.returncode, err)
    assert not re.search(r"Traceback|KeyboardInterrupt|Aborted", err), err


def _through(headers: list[tuple[bytes, bytes]], kind: str = "http") -> list[Any]:
    sent: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x"})

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {}

    asyncio.run(dashboard_server.FrameGuard(inner)({"type": kind}, receive, send))
    return sent


def test_the_middleware_replaces_a_weaker_frame_option_and_keeps_other_policies() -> None:
    start, body = _through([
        (b"x-frame-options", b"ALLOWALL"),
        (b"content-security-policy", b"default-src 'self'"),
        (b"content-type", b"text/html"),
    ])  # fmt: skip
    assert body == {"type": "http.response.body", "body": b"x"}
    assert sorted(start["headers"]) == sorted([
        (b"content-security-policy", b"default-src 'self'"),
        (b"content-type", b"text/html"),
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"content-security-policy", b"frame-ancestors 'self'"),
    ])  # fmt: skip
    (ws_start, _) = _through([], kind="websocket")
    assert ws_start["headers"] == []  # a websocket is passed through as it is


# -- the pages: framed, nothing changes -----------------------------------------------------------


@pytest.fixture
def browser_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """A session opened by a browser on 127.0.0.1 (so it looks local, as in the red team's
    frame); the bind address set to loopback."""
    monkeypatch.setattr("app.ui_access.request_headers", lambda: {"Host": "127.0.0.1:8501"})
    before = st_config.get_option("server.address")
    yield lambda value: st_config.set_option("server.address", value)
    st_config.set_option("server.address", before)


DECIDING = {"rl_routing_approve", "rl_routing_reject", "rl_routing_rollback", "rl_routing_name"}


def _routing(home: Path, monkeypatch: pytest.MonkeyPatch, top: bool | None) -> AppTest:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(VIEWS / "routing.py"), default_timeout=120)
    if top is not None:
        at.session_state[ui.TOP_LEVEL_KEY] = top
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _keys(at: AppTest) -> set[str]:
    return {w.key for w in [*at.button, *at.text_input] if w.key}


def test_a_framed_routing_page_offers_no_decision(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, browser_session: Callable[[str], None]
) -> None:
    browser_session("127.0.0.1")
    before = (fresh_home / "manifest.yaml").read_bytes()
    at = _routing(fresh_home, monkeypatch, top=False)
    assert [e.value for e in at.error] == [ui.FRAMED_MESSAGE]
    assert not _keys(at) & DECIDING
    assert (fresh_home / "manifest.yaml").read_bytes() == before

    waiting = _routing(fresh_home, monkeypatch, top=None)  # the browser has not answered yet
    assert any("not inside a frame" in c.value for c in waiting.caption)
    assert not _keys(waiting) & DECIDING and not waiting.error
    assert ui.FRAME_PROBE_KEY in waiting.session_state  # the question was asked

    control = _routing(fresh_home, monkeypatch, top=True)
    assert {"rl_routing_approve", "rl_routing_reject", "rl_routing_name"} <= _keys(control)


def test_a_framed_reports_page_neither_builds_nor_sends(
    make_cfg: Callable[[str], config.Config],
    webhook: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    browser_session: Callable[[str], None],
) -> None:
    from app.reports import weekly

    hook = webhook(200)
    cfg = make_cfg(webhook_toml(hook))
    weekly(cfg, WEEK)
    monkeypatch.setenv("ROUTELEDGER_HOME", str(cfg.home))
    browser_session("127.0.0.1")

    def open_reports(top: bool) -> AppTest:
        at = AppTest.from_file(str(VIEWS / "reports.py"), default_timeout=120)
        at.session_state[ui.TOP_LEVEL_KEY] = top
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    at = open_reports(top=False)
    assert ui.FRAMED_MESSAGE in [e.value for e in at.error]
    send = at.button(key=f"send-{WEEK}")
    build = next(b for b in at.button if b.label.startswith("Build"))
    assert send.disabled and build.disabled
    assert not hook.bodies

    control = open_reports(top=True)
    assert not control.button(key=f"send-{WEEK}").disabled
    control.button(key=f"send-{WEEK}").click().run()
    assert len(hook.bodies) == 1
