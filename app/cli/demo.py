"""``routeledger demo``: build a demo home from a month of realistic gateway logs, then serve the
dashboard on it until Ctrl+C.

The home is ``./.routeledger-demo`` unless ``--home`` is given on the command line
(``ROUTELEDGER_HOME`` is deliberately not used: it points at your real home). A complete demo
home built today is reused; ``--rebuild`` builds it again.
"""

from __future__ import annotations

import signal
import subprocess
import time
import webbrowser
from pathlib import Path

import click
from click.core import ParameterSource

from app.cli import main
from app.cli.dashboard import launch, wait_healthy
from app.demo import build
from app.demo.workload import DEFAULT_REQUESTS, DEFAULT_SEED, fmt_seconds
from collectors.errors import RouteLedgerError

DEMO_HOME = ".routeledger-demo"
HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 90.0


@main.command("demo")
@click.option(
    "--port",
    default=8501,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port for the dashboard (on 127.0.0.1).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option("--rebuild", is_flag=True, help="Build the demo home again from scratch.")
@click.option(
    "--requests",
    "n_requests",
    type=click.IntRange(100, 10_000_000),
    default=DEFAULT_REQUESTS,
    envvar="ROUTELEDGER_DEMO_REQUESTS",
    hidden=True,
    help="Logical requests in the month (smaller for tests).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, hidden=True, help="Random seed.")
@click.pass_context
def demo_cmd(
    ctx: click.Context, port: int, no_browser: bool, rebuild: bool, n_requests: int, seed: int
) -> None:
    """Build a demo home (30 days of LiteLLM and OpenTelemetry logs, priced) and open the
    dashboard on it. Home: ./.routeledger-demo unless --home is given."""
    home = _home(ctx)
    click.echo(f"Demo home: {home} (a fresh build takes about a minute)", err=True)
    t0 = time.monotonic()
    result = build.ensure(home, n_requests, seed, rebuild=rebuild)
    if result.built:
        g, i = result.generated, result.ingested
        click.echo(
            f"Built in {fmt_seconds(time.monotonic() - t0)}: {g['requests']:,} requests, "
            f"{i['attempts_loaded']:,} attempts from {i['files']} log files "
            f"(generate {result.timings['generate_s']}s, prices {result.timings['prices_s']}s, "
            f"ingest and marts {result.timings['ingest_and_marts_s']}s)",
            err=True,
        )
    else:
        click.echo(
            f"Reusing the demo built on {result.built_on} (--rebuild to start over)", err=True
        )
    build.point_reports_at(home, port)  # the weekly report links to this dashboard
    serve(home, port, open_browser=not no_browser)


def _home(ctx: click.Context) -> Path:
    parent = ctx.parent
    given = (
        parent is not None and parent.get_parameter_source("home") == ParameterSource.COMMANDLINE
    )
    return Path(parent.params["home"]) if given and parent is not None else Path(DEMO_HOME)


def serve(home: Path, port: int, open_browser: bool) -> None:
    """Run the dashboard on ``home`` until Ctrl+C (or until it exits), then stop it cleanly."""
    url = f"http://{HOST}:{port}"
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = launch(home, HOST, port, open_browser=False)
        if not wait_healthy(url, proc, timeout=HEALTH_TIMEOUT_S):
            code = proc.poll()
            _stop(proc)
            reason = f"exited with code {code}" if code is not None else "did not answer"
            raise RouteLedgerError(
                f"the dashboard {reason} on {url}; is port {port} in use? Try --port"
            )
        click.echo(f"RouteLedger demo: {url}  (Ctrl+C to stop)")
        if open_browser:
            _open(url)
        code = proc.wait()
    except KeyboardInterrupt:
        click.echo("Stopping the dashboard ...", err=True)
        if proc is not None:
            _stop(proc)
        return
    finally:  # whatever ends the demo, the server it started does not outlive it
        if proc is not None and proc.poll() is None:
            _stop(proc)
    if code not in (0, -signal.SIGINT, -signal.SIGTERM):
        raise RouteLedgerError(f"the dashboard exited with code {code}")


def _open(url: str) -> None:
    """Open a browser tab; never fail where there is no browser."""
    try:
        webbrowser.open(url)
    except (webbrowser.Error, OSError):
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
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
