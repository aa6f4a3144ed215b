"""``routeledger dashboard``: the Streamlit dashboard in a subprocess, on localhost by default.

:func:`launch` is what ``routeledger demo`` reuses: it starts ``streamlit run
app/dashboard_server.py`` (``app/dashboard.py`` behind headers that forbid framing by another
origin, see :mod:`app.dashboard_server`) headless with telemetry off and the home passed as
``ROUTELEDGER_HOME``, and returns the process; the caller waits on it (or stops it).
:func:`server` is how both commands run it: the server never outlives the command. Ctrl+C,
SIGTERM or SIGHUP to the command stop the server (SIGINT, then SIGTERM, then SIGKILL) before
the command exits. (SIGKILL leaves no command to do it.)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import duckdb

from app.cli import Ctx, main
from collectors.errors import RouteLedgerError
from collectors.warehouse import Warehouse

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


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def server(home: Path, host: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The dashboard server on ``home`` for the length of the block, stopped before this
    returns however the block ends: the server exited, an error, or a signal to this command.
    The first SIGINT, SIGTERM or SIGHUP raises KeyboardInterrupt in the block (the command
    stops as on Ctrl+C); any signal after it, or while the server is being stopped, is ignored.
    A signal this process was started ignoring stays ignored (``nohup``: closing the terminal
    must not stop the dashboard)."""
    stopping = False

    def interrupt(_sig: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    previous = {
        sig: signal.signal(sig, interrupt)
        for sig in STOP_SIGNALS
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        proc = launch(home, host, port, open_browser=False)
        try:
            yield proc
        except KeyboardInterrupt:
            if proc.poll() is None:
                click.echo("Stopping the dashboard ...", err=True)
            raise
        finally:
            stopping = True
            if proc.poll() is None:
                stop(proc)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT first (Streamlit shuts down cleanly on it), then SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGTERM, 5.0)):
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def _refresh_marts(home: str) -> None:
    from collectors import config, pipeline

    pipeline.marts_for_reading(config.load(Path(home)))


def _refresh_in_a_child(home: Path) -> None:
    """:func:`pipeline.marts_for_reading` in a process of its own, which ends (releasing an
    embedded engine's data path) before the server starts."""
    child = multiprocessing.get_context("spawn").Process(target=_refresh_marts, args=(str(home),))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RouteLedgerError(f"refreshing the marts ended with exit code {child.exitcode}")


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
    wh = Warehouse.from_config(cfg)
    # an embedded engine (chdb) is opened by one process only: here, never (the server opens it)
    if wh.path.exists() if wh.embedded else wh.exists():  # the marts up to date first
        try:
            if wh.embedded:
                _refresh_in_a_child(cfg.home)
            else:
                from collectors import pipeline

                pipeline.marts_for_reading(cfg)
        except (RouteLedgerError, duckdb.Error) as e:  # still serve what the warehouse holds
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            click.echo(
                f"Warning: could not refresh the marts ({first}); showing them as they are.",
                err=True,
            )
    else:
        click.echo(
            f"No warehouse yet at {wh.describe()}: the dashboard will say how to load data "
            "(`routeledger ingest` or `routeledger demo`).",
            err=True,
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"Warning: listening on {host} exposes the dashboard beyond this machine.", err=True
        )
    try:
        with server(cfg.home, host, port) as proc:
            click.echo(f"RouteLedger dashboard on {url(host, port)} (Ctrl+C to stop)", err=True)
            code = proc.wait()
    except KeyboardInterrupt:  # Ctrl+C, SIGTERM or SIGHUP: the server was stopped with us
        return
    # Told to stop on its own (a signal to it alone), uvicorn (under st.App) shuts down, then
    # raises the signal again: the server ends with -15 (app/dashboard_server.py hands SIGINT
    # on as SIGTERM), or 1 ("Aborted!") were a SIGINT to get through.
    if code not in (0, -signal.SIGINT, -signal.SIGTERM):
        raise SystemExit(code)
