"""`routeledger dashboard` and the launch() that `routeledger demo` reuses: what the Streamlit
subprocess is started with. (tests/browser starts the real server.)"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import dashboard as cmd
from app.cli import main


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
