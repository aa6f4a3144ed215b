"""``routeledger demo --no-browser`` end to end: builds a small home, serves the dashboard on it,
answers on /_stcore/health, and stops cleanly on SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
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
    port = _free_port()
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
