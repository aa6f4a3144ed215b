"""The dashboard listens on localhost unless told otherwise; exposed beyond it, changing anything
(approving a manifest, building or sending a report) needs a signed-in approver.

tests/app/test_cli_dashboard.py checks the arguments `routeledger dashboard` passes and
tests/tuner/test_page.py the Routing page on 0.0.0.0 and with a password. Here: the real server
binds loopback only even when Streamlit's own configuration says otherwise, the demo binds it
too, an *unset* address (Streamlit's default: every interface) counts as exposed, the Reports
page's actions follow the same rule, and a password check does not reveal which users exist.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app.cli import dashboard as dashboard_cmd
from app.cli import demo as demo_cmd
from app.tuner import auth
from app.ui import SIGNED_IN_KEY
from collectors import config
from tests.app.test_cli_dashboard import FakePopen, option
from tests.reports.conftest import Hook, webhook_toml
from tests.reports.data import WEEK

VIEWS = Path(__file__).resolve().parents[2] / "app" / "views"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (Linux /proc)."""
    out = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, _, hexport = local.partition(":")
            if state == "0A" and int(hexport, 16) == port and len(addr) == width:
                out.add(addr)
    return out


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc shows them


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc/net/tcp")
def test_the_real_server_binds_loopback_only_whatever_streamlit_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamlit reads server.address from its environment and ./.streamlit/config.toml; the
    launcher's command-line flag wins over both."""
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text('[server]\naddress = "0.0.0.0"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")  # noqa: S104  (the attempt)
    port = free_port()
    proc = dashboard_cmd.launch(tmp_path / "home", dashboard_cmd.DEFAULT_HOST, port, False)
    try:
        assert dashboard_cmd.wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=90)
        bound = listening(port)
        assert bound and bound <= LOOPBACK, bound
    finally:
        demo_cmd._stop(proc)


@pytest.fixture
def popen(monkeypatch: pytest.MonkeyPatch) -> type[FakePopen]:
    import subprocess

    FakePopen.calls = []
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    return FakePopen


def test_the_demo_serves_on_loopback(
    tmp_path: Path, popen: type[FakePopen], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_cmd, "wait_healthy", lambda *a, **k: True)
    demo_cmd.serve(tmp_path, 8599, open_browser=False)
    (call,) = popen.calls
    assert option(call["args"], "--server.address") == "127.0.0.1"


# -- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def address() -> Iterator[Callable[[str | None], None]]:
    before = st_config.get_option("server.address")
    yield lambda value: st_config.set_option("server.address", value)
    st_config.set_option("server.address", before)


def test_an_unset_address_is_exposed_and_refuses_approval(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: Callable[[str | None], None]
) -> None:
    """`streamlit run app/dashboard.py` by hand, with no address: every interface."""
    before = (fresh_home / "manifest.yaml").read_bytes()
    monkeypatch.setenv("ROUTELEDGER_HOME", str(fresh_home))
    address(None)
    at = AppTest.from_file(str(VIEWS / "routing.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Approving is disabled" in e.value for e in at.error)
    assert not {b.key for b in at.button} & {"rl_routing_approve", "rl_routing_reject"}
    assert (fresh_home / "manifest.yaml").read_bytes() == before


def _reports(cfg: config.Config, monkeypatch: pytest.MonkeyPatch, signed_in: bool) -> AppTest:
    from app.reports import weekly

    weekly(cfg, WEEK)
    monkeypatch.setenv("ROUTELEDGER_HOME", str(cfg.home))
    at = AppTest.from_file(str(VIEWS / "reports.py"), default_timeout=120)
    if signed_in:
        at.session_state[SIGNED_IN_KEY] = "erin"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_exposed_reports_page_neither_builds_nor_sends_without_sign_in(
    make_cfg: Callable[[str], config.Config],
    webhook: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    address: Callable[[str | None], None],
) -> None:
    hook = webhook(200)
    cfg = make_cfg(webhook_toml(hook))
    address("0.0.0.0")  # noqa: S104  (simulating exposure)
    at = _reports(cfg, monkeypatch, signed_in=False)
    send = at.button(key=f"send-{WEEK}")
    build = next(b for b in at.button if b.label.startswith("Build"))
    assert send.disabled and build.disabled
    assert any("sign in on the Routing page" in c.value for c in at.caption)
    assert not hook.bodies


def test_an_exposed_reports_page_sends_for_a_signed_in_approver(
    make_cfg: Callable[[str], config.Config],
    webhook: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    address: Callable[[str | None], None],
) -> None:
    hook = webhook(200)
    cfg = make_cfg(webhook_toml(hook))
    address("192.0.2.10")
    at = _reports(cfg, monkeypatch, signed_in=True)
    assert not at.button(key=f"send-{WEEK}").disabled
    at.button(key=f"send-{WEEK}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(hook.bodies) == 1


# -- approver passwords ---------------------------------------------------------------------------


def test_an_unknown_approver_costs_a_derivation_like_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Otherwise the time of a wrong answer tells which user names are approvers."""
    entry = auth.hash_password("erin", "hunter22", iterations=1000)
    calls: list[int] = []
    real = auth._derive

    def counting(password: str, salt: str, iterations: int) -> str:
        calls.append(iterations)
        return real(password, salt, iterations)

    monkeypatch.setattr(auth, "_derive", counting)
    assert not auth.verify([entry], "mallory", "hunter22")
    assert calls == [1000]  # as costly as checking erin's entry
    assert auth.verify([entry], "erin", "hunter22") and calls == [1000, 1000]
    assert not auth.verify([], "erin", "hunter22") and calls[-1] == auth.ITERATIONS


# -- a loopback-bound server reached from elsewhere ----------------------------------------------


@pytest.mark.parametrize(
    ("headers", "elsewhere"),
    [
        ({}, False),  # no request (a bare script run): the bind address decides
        ({"Host": "127.0.0.1:8501"}, False),
        ({"Host": "localhost:8501"}, False),
        ({"Host": "[::1]:8501"}, False),
        ({"Host": "localhost"}, False),
        ({"Host": "dash.example.com"}, True),  # a proxy passing the Host on
        ({"Host": "attacker.example:8501"}, True),  # DNS rebinding from a web page
        ({"Host": "192.168.1.20:8501"}, True),
        ({"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.9"}, True),
        ({"host": "localhost:8501", "x-real-ip": "203.0.113.9"}, True),
        ({"Host": "127.0.0.1:8501", "Forwarded": "for=203.0.113.9"}, True),
    ],
)
def test_a_request_through_a_proxy_or_another_name_comes_from_elsewhere(
    headers: dict[str, str], elsewhere: bool
) -> None:
    assert auth.reached_from_elsewhere(headers) is elsewhere


def test_a_loopback_dashboard_behind_a_proxy_refuses_approval(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: Callable[[str | None], None]
) -> None:
    """`routeledger dashboard` on 127.0.0.1 with nginx in front: the bind address alone would
    call every visitor local."""
    from app import ui

    monkeypatch.setattr("app.ui_access.request_headers", lambda: {"Host": "dash.example.com"})
    monkeypatch.setenv("ROUTELEDGER_HOME", str(fresh_home))
    address("127.0.0.1")
    at = AppTest.from_file(str(VIEWS / "routing.py"), default_timeout=120)
    at.session_state[ui.TOP_LEVEL_KEY] = True  # a browser's page: it said it is not framed
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("reached through a proxy" in e.value for e in at.error), [e.value for e in at.error]
    assert "rl_routing_approve" not in {b.key for b in at.button}
    monkeypatch.setattr("app.ui_access.request_headers", lambda: {"Host": "127.0.0.1:8501"})
    at = AppTest.from_file(str(VIEWS / "routing.py"), default_timeout=120)
    at.session_state[ui.TOP_LEVEL_KEY] = True  # a browser's page: it said it is not framed
    at.run()
    assert "rl_routing_approve" in {b.key for b in at.button}
