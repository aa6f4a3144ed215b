"""``routeledger demo --no-browser`` end to end: builds a small home, serves the dashboard on it,
answers on /_stcore/health, and stops cleanly on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import demo as demo_cmd
from app.cli import main
from app.demo import build
from tests.app.test_cli_dashboard import signals_as_a_terminal_gives_them, start_and_kill

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:  # noqa: S310
            return int(r.status)
    except OSError:
        return None


@pytest.mark.slow
def test_demo_serves_the_dashboard_and_stops_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    env = dict(
        os.environ, ROUTELEDGER_DEMO_REQUESTS="2000", ROUTELEDGER_HOME=str(tmp_path / "real")
    )
    # files, not pipes: a server child holding a pipe open could never hang the test
    out_f, err_f = open(tmp_path / "out.txt", "w+"), open(tmp_path / "err.txt", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "--home",
            str(tmp_path / "demo"),
            "demo",
            "--no-browser",
            "--port",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=out_f,
        stderr=err_f,
        text=True,
        preexec_fn=signals_as_a_terminal_gives_them,  # noqa: PLW1509 (no threads started)
    )
    try:
        deadline = time.monotonic() + 180
        while _health(port) != 200:
            assert proc.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "the dashboard never answered"
            time.sleep(0.5)
        time.sleep(1.0)  # the URL is printed right after the first healthy answer
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out_f.close()
        err_f.close()
    out, err = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out
    assert "Built in" in err and "2,000 requests" in err
    assert (tmp_path / "demo" / "warehouse.duckdb").exists()
    # the weekly report's links point at the dashboard the demo served
    toml = (tmp_path / "demo" / "routeledger.toml").read_text(encoding="utf-8")
    assert f'dashboard_url = "http://localhost:{port}"' in toml
    assert not (tmp_path / "real").exists()  # ROUTELEDGER_HOME is not the demo's home
    deadline = time.monotonic() + 10
    while _health(port) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _health(port) is None  # the server is gone, not orphaned


def test_it_says_whether_it_builds_or_reuses_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[int] = []
    monkeypatch.setattr(demo_cmd, "serve", lambda home, port, open_browser: served.append(port))
    args = ["--home", str(tmp_path / "demo"), "demo", "--requests", "300", "--seed", "1"]
    first = CliRunner().invoke(main, [*args, "--no-browser"])
    assert first.exit_code == 0, first.output
    assert "building it" in first.stderr and "(about a minute)" in first.stderr
    assert "Built in" in first.stderr and "300 requests" in first.stderr
    built_at = json.loads((tmp_path / "demo" / "demo.json").read_text())["window"][1]
    hhmm = datetime.fromisoformat(built_at).astimezone().strftime("%H:%M")

    again = CliRunner().invoke(main, [*args, "--no-browser", "--port", "8600"])
    assert again.exit_code == 0, again.output
    assert (
        f"reusing the demo built today at {hhmm} (300 requests); run with --rebuild to build it "
        "again" in again.stderr
    )
    assert "about a minute" not in again.stderr and "Built in" not in again.stderr
    assert served == [8501, 8600]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_killing_the_demo_stops_its_server(tmp_path: Path, sig: int) -> None:
    """`kill <pid>` of `routeledger demo` (or its terminal closing) leaves no server behind."""
    home = tmp_path / "demo"
    build.build(home, requests=2000)  # built today: the demo reuses it and starts at once
    port = free_port()
    err = start_and_kill(
        ["--home", str(home), "demo", "--requests", "2000", "--no-browser", "--port", str(port)],
        port,
        sig,
        tmp_path / "err.txt",
        120,
    )
    assert "reusing the demo built today" in err and "Stopping the dashboard" in err
