"""``routeledger dashboard``: the Streamlit dashboard in a subprocess, on localhost by default.

:func:`launch` is what ``routeledger demo`` reuses: it starts ``streamlit run
app/dashboard_server.py`` (``app/dashboard.py`` behind headers that forbid framing by another
origin, see :mod:`app.dashboard_server`) headless with telemetry off and the home passed as
``ROUTELEDGER_HOME``, and returns the process; the caller waits on it (or stops it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

import click
import duckdb

from app.cli import Ctx, main
from collectors.errors import RouteLedgerError

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard.py"  # the Streamlit script
SERVER = DASHBOARD.with_name("dashboard_server.py")  # serves it, with the anti-framing headers
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SERVER),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def url(host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104
    return f"http://{shown}:{port}"


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    """True once ``/_stcore/health`` answers 200; False if the process ended or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def launch(home: Path, host: str, port: int, open_browser: bool) -> subprocess.Popen[bytes]:
    """Start the dashboard server for ``home``; with ``open_browser``, open it once it answers."""
    env = dict(os.environ, ROUTELEDGER_HOME=str(Path(home).resolve()))
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    proc = subprocess.Popen(command(host, port), env=env)  # noqa: S603
    if open_browser:
        base = url(host, port)
        threading.Thread(
            target=lambda: wait_healthy(base, proc) and webbrowser.open(base), daemon=True
        ).start()
    return proc


@main.command("dashboard")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on. Anything but localhost exposes the dashboard.",
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.pass_obj
def dashboard_cmd(obj: Ctx, host: str, port: int) -> None:
    """Browse spend, cost per success, latency, reliability, prices and data health."""
    cfg = obj.config()
    if cfg.warehouse_path.exists():  # bring the marts up to date with the configuration first
        from collectors import pipeline

        try:
            pipeline.update_marts(cfg)
        except (RouteLedgerError, duckdb.Error) as e:  # still serve what the warehouse holds
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            click.echo(
                f"Warning: could not refresh the marts ({first}); showing them as they are.",
                err=True,
            )
    else:
        click.echo(
            f"No warehouse yet at {cfg.warehouse_path}: the dashboard will say how to load data "
            "(`routeledger ingest` or `routeledger demo`).",
            err=True,
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"Warning: listening on {host} exposes the dashboard beyond this machine.", err=True
        )
    proc = launch(cfg.home, host, port, open_browser=False)
    click.echo(f"RouteLedger dashboard on {url(host, port)} (Ctrl+C to stop)", err=True)
    forwarded = (signal.SIGTERM, signal.SIGHUP)  # stopping this command stops the server too
    stopped: list[int] = []  # the signals this command passed on: the server was told to stop

    def forward(sig: int, _frame: object) -> None:
        stopped.append(sig)
        proc.send_signal(sig)

    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        stopped.append(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Told to stop, uvicorn (under st.App) shuts down, then raises the signal again: the server
    # ends with -15 (app/dashboard_server.py hands SIGINT on as SIGTERM), or 1 ("Aborted!") were
    # a SIGINT to get through. Any end after a stop this command passed on is a stop.
    if code not in (0, -signal.SIGINT, -signal.SIGTERM) and not stopped:
        raise SystemExit(code)
