"""`routeledger dashboard` and the launch() that `routeledger demo` reuses: what the Streamlit
subprocess is started with; that a signal to the command (SIGTERM, SIGHUP, Ctrl+C) stops the
server with it, down to the real command and its real server; the favicon sent inline, with no
request to another host (in Chromium too). (tests/browser drives every page.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from click.testing import CliRunner

from app.cli import dashboard as cmd
from app.cli import main

ROOT = Path(__file__).resolve().parents[2]


class FakePopen:
    calls: list[dict[str, Any]] = []

    def __init__(self, args: list[str], env: dict[str, str] | None = None, **kw: Any) -> None:
        FakePopen.calls.append({"args": args, "env": env or {}})
        self.returncode = 0

    def wait(self, timeout: float | None = None) -> int:
        return 0

    def poll(self) -> int:
        return 0

    def send_signal(self, sig: int) -> None:
        pass


@pytest.fixture
def popen(monkeypatch: pytest.MonkeyPatch) -> type[FakePopen]:
    FakePopen.calls = []
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    return FakePopen


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_launch_runs_the_dashboard_headless_on_localhost_without_telemetry(
    tmp_path: Path, popen: type[FakePopen]
) -> None:
    proc = cmd.launch(tmp_path, "127.0.0.1", 8765, open_browser=False)
    assert isinstance(proc, FakePopen)
    (call,) = popen.calls
    args = call["args"]
    assert args[1:4] == ["-m", "streamlit", "run"]
    assert Path(args[4]) == Path(cmd.__file__).resolve().parents[1] / "dashboard_server.py"
    assert option(args, "--server.address") == "127.0.0.1"
    assert option(args, "--server.port") == "8765"
    assert option(args, "--server.headless") == "true"
    assert option(args, "--browser.gatherUsageStats") == "false"
    assert call["env"]["ROUTELEDGER_HOME"] == str(tmp_path.resolve())


def test_the_command_defaults_to_localhost_and_passes_the_home(
    tmp_path: Path, popen: type[FakePopen]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    res = CliRunner().invoke(main, ["--home", str(home), "dashboard", "--port", "9123"])
    assert res.exit_code == 0, res.output
    (call,) = popen.calls
    assert option(call["args"], "--server.address") == "127.0.0.1"
    assert option(call["args"], "--server.port") == "9123"
    assert call["env"]["ROUTELEDGER_HOME"] == str(home.resolve())
    assert "No warehouse yet" in res.output  # and the dashboard explains what to run
    assert not (home / "warehouse.duckdb").exists()


def test_a_host_beyond_localhost_is_warned_about(tmp_path: Path, popen: type[FakePopen]) -> None:
    res = CliRunner().invoke(main, ["--home", str(tmp_path), "dashboard", "--host", "0.0.0.0"])
    assert res.exit_code == 0, res.output
    assert option(popen.calls[0]["args"], "--server.address") == "0.0.0.0"
    assert "exposes the dashboard" in res.output


def test_help_lists_host_and_port() -> None:
    res = CliRunner().invoke(main, ["dashboard", "--help"])
    assert res.exit_code == 0
    assert "--host" in res.output and "--port" in res.output and "127.0.0.1" in res.output


# --- stopping: the server never outlives the command -----------------------------------------


class RunningPopen(FakePopen):
    """A server that runs until it is sent a signal."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, **kw: Any) -> None:
        super().__init__(args, env, **kw)
        self.returncode = None  # type: ignore[assignment]
        self.signals: list[int] = []

    def poll(self) -> int | None:  # type: ignore[override]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            time.sleep(timeout or 0)
        return self.returncode or 0

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        self.returncode = -signal.SIGTERM


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_to_the_command_stops_the_server_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sig: int
) -> None:
    monkeypatch.setattr(subprocess, "Popen", RunningPopen)
    with default_signals():
        before = {s: signal.getsignal(s) for s in cmd.STOP_SIGNALS}
        with pytest.raises(KeyboardInterrupt), cmd.server(tmp_path, "127.0.0.1", 8765) as proc:
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the signal interrupts this
        assert isinstance(proc, RunningPopen) and proc.signals == [signal.SIGINT]
        assert proc.poll() is not None
        assert {s: signal.getsignal(s) for s in cmd.STOP_SIGNALS} == before  # handlers put back


def test_a_signal_the_command_was_started_ignoring_stays_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `nohup`, closing the terminal (SIGHUP) must not stop the dashboard."""
    monkeypatch.setattr(subprocess, "Popen", RunningPopen)
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with cmd.server(tmp_path, "127.0.0.1", 8765) as proc:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.2)
            assert proc.signals == []
    finally:
        signal.signal(signal.SIGHUP, previous)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:  # noqa: S310
            return r.status == 200
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(d.name))
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def signals_as_a_terminal_gives_them() -> None:
    """In a child before it runs: SIGINT and SIGHUP at their defaults. A test run started under
    ``nohup`` or as a background job ignores them, and a command started ignoring a signal
    rightly keeps ignoring it (see the test above): the commands here must start as from a
    terminal."""
    for s in (signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


@contextmanager
def default_signals() -> Iterator[None]:
    """The same in this process, for the length of a test: the handlers Python installs at
    startup when nothing is ignored (SIGINT raises KeyboardInterrupt, SIGHUP terminates)."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGHUP)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)


def start_and_kill(args: list[str], port: int, sig: int, log: Path, timeout: float) -> str:
    """Run ``routeledger *args`` until its dashboard answers on ``port``, send ``sig`` to the
    command alone, and check the dashboard's server went with it. Returns its stderr."""
    with open(log, "w+") as err:  # a file, not a pipe: an orphaned server could hold a pipe open
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=signals_as_a_terminal_gives_them,  # noqa: PLW1509 (no threads started)
        )
        try:
            deadline = time.monotonic() + timeout
            while not healthy(port):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the dashboard never answered"
                time.sleep(0.3)
            servers = children(proc.pid)
            assert servers, "no server subprocess"
            proc.send_signal(sig)
            assert proc.wait(timeout=30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for pid in servers:
        assert not alive(pid), f"the dashboard's server {pid} outlived the command"
    assert not healthy(port)
    return log.read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_killing_the_dashboard_command_stops_its_server(tmp_path: Path, sig: int) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    err = start_and_kill(
        ["--home", str(home), "dashboard", "--port", str(port)], port, sig, tmp_path / "err", 90
    )
    assert "Stopping the dashboard" in err and "Traceback" not in err


# --- the favicon: no request to a font host on the internet ----------------------------------


def test_the_favicon_is_ours_and_sent_inline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``page_icon=":material/...:"`` makes the browser fetch the icon from fonts.gstatic.com;
    a file of ours goes to the page as a data: URI, with no request at all."""
    from streamlit.commands.page_config import _get_favicon_string
    from streamlit.testing.v1 import AppTest

    seen: dict[str, Any] = {}
    real = st.set_page_config

    def record(**kwargs: Any) -> None:
        seen.update(kwargs)
        real(**kwargs)

    monkeypatch.setattr(st, "set_page_config", record)
    monkeypatch.setenv("ROUTELEDGER_HOME", str(tmp_path))
    AppTest.from_file(str(ROOT / "app" / "dashboard.py"), default_timeout=60).run()
    icon = seen["page_icon"]
    assert isinstance(icon, str) and Path(icon).is_file() and Path(icon).parent == ROOT / "app"
    assert _get_favicon_string(icon).startswith("data:image/svg+xml;base64,")
    svg = Path(icon).read_text(encoding="utf-8")
    assert "href" not in svg and "url(" not in svg  # the image itself loads nothing


@pytest.mark.browser
def test_the_dashboard_page_asks_no_other_host_in_chromium(tmp_path: Path) -> None:
    """Every request Chromium makes for the page goes to the dashboard's own server."""
    from tests.browser.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium

    _need_chromium()
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    server = cmd.launch(home, "127.0.0.1", port, open_browser=False)
    requests: list[str] = []
    try:
        assert cmd.wait_healthy(f"http://127.0.0.1:{port}", server, timeout=90)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on("request", lambda r: requests.append(r.url))
                page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
                page.wait_for_function(  # the page config has reached the browser
                    "() => document.querySelector(\"link[rel='shortcut icon']\")"
                    "?.href.startsWith('data:')",
                    timeout=60_000,
                )
                page.wait_for_timeout(2000)
            finally:
                browser.close()
    finally:
        cmd.stop(server)
    hosts = {urllib.parse.urlsplit(u).hostname for u in requests if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, sorted(u for u in requests if "127.0.0.1" not in u)
