"""``routeledger demo``: build a demo home from a month of realistic gateway logs, then serve the
dashboard on it until Ctrl+C (or SIGTERM, SIGHUP), which stop the dashboard's server too.

The home is ``./.routeledger-demo`` unless ``--home`` is given on the command line
(``ROUTELEDGER_HOME`` is deliberately not used: it points at your real home). A complete demo
home built today is reused; ``--rebuild`` builds it again.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
import webbrowser
from datetime import datetime
from pathlib import Path

import click
from click.core import ParameterSource

from app.cli import main
from app.cli.dashboard import server, stop, wait_healthy
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
@click.option(
    "--clickhouse",
    is_flag=True,
    help="Build the warehouse on ClickHouse (chdb, embedded, in <home>/clickhouse) instead of "
    "DuckDB; needs pip install 'routeledger[clickhouse]'.",
)
@click.option("--no-serve", is_flag=True, help="Build (or reuse) the demo home, then exit.")
@click.pass_context
def demo_cmd(
    ctx: click.Context,
    port: int,
    no_browser: bool,
    rebuild: bool,
    n_requests: int,
    seed: int,
    clickhouse: bool,
    no_serve: bool,
) -> None:
    """Build a demo home (30 days of LiteLLM and OpenTelemetry logs, priced) and open the
    dashboard on it. Home: ./.routeledger-demo unless --home is given."""
    home = _home(ctx)
    backend = "clickhouse" if clickhouse else "duckdb"
    reused = None if rebuild else build.reusable(home, n_requests, seed, backend=backend)
    if reused is not None:
        click.echo(
            f"Demo home: {home}, reusing the demo built today at {_local_time(reused)} "
            f"({reused.requests:,} requests); run with --rebuild to build it again",
            err=True,
        )
    else:
        click.echo(
            f"Demo home: {home}, building it: 30 days of gateway logs, priced and ingested "
            "(about a minute) ...",
            err=True,
        )
        t0 = time.monotonic()
        result = _build(home, n_requests, seed, backend)
        g, i = result.generated, result.ingested
        click.echo(
            f"Built in {fmt_seconds(time.monotonic() - t0)}: {g['requests']:,} requests, "
            f"{i['attempts_loaded']:,} attempts from {i['files']} log files "
            f"(generate {result.timings['generate_s']}s, prices {result.timings['prices_s']}s, "
            f"ingest and marts {result.timings['ingest_and_marts_s']}s)",
            err=True,
        )
    build.point_reports_at(home, port)  # the weekly report links to this dashboard
    if not no_serve:
        serve(home, port, open_browser=not no_browser)


def _build_in_child(home: str, requests: int, seed: int) -> None:
    build.build(Path(home), requests, seed, warehouse='backend = "clickhouse"')


def _build(home: Path, requests: int, seed: int, backend: str) -> build.BuildResult:
    """The demo built on ``backend``; on ClickHouse in a process of its own, which ends before
    the dashboard's server opens the embedded engine (one process per data path)."""
    if backend == "duckdb":
        return build.build(home, requests, seed)
    child = multiprocessing.get_context("spawn").Process(
        target=_build_in_child, args=(str(home), requests, seed)
    )
    child.start()
    child.join()
    result = build.reusable(home, requests, seed, backend=backend)
    if child.exitcode != 0 or result is None:
        raise RouteLedgerError(f"building the demo on ClickHouse failed (exit {child.exitcode})")
    return result


def _local_time(result: build.BuildResult) -> str:
    """When the demo was built (the end of its window), on this machine's clock, as HH:MM."""
    try:
        return datetime.fromisoformat(result.window[1]).astimezone().strftime("%H:%M")
    except (TypeError, ValueError):
        return "an unknown time"


def _home(ctx: click.Context) -> Path:
    parent = ctx.parent
    given = (
        parent is not None and parent.get_parameter_source("home") == ParameterSource.COMMANDLINE
    )
    return Path(parent.params["home"]) if given and parent is not None else Path(DEMO_HOME)


def serve(home: Path, port: int, open_browser: bool) -> None:
    """Run the dashboard on ``home`` until Ctrl+C, SIGTERM or SIGHUP (or until it exits); the
    server is stopped with the command (:func:`app.cli.dashboard.server`)."""
    base = f"http://{HOST}:{port}"
    try:
        with server(home, HOST, port) as proc:
            if not wait_healthy(base, proc, timeout=HEALTH_TIMEOUT_S):
                code = proc.poll()
                reason = f"exited with code {code}" if code is not None else "did not answer"
                raise RouteLedgerError(
                    f"the dashboard {reason} on {base}; is port {port} in use? Try --port"
                )
            click.echo(f"RouteLedger demo: {base}  (Ctrl+C to stop)")
            if open_browser:
                _open(base)
            code = proc.wait()
    except KeyboardInterrupt:  # the server was stopped on the way out of the block
        return
    if code not in (0, -signal.SIGINT, -signal.SIGTERM):
        raise RouteLedgerError(f"the dashboard exited with code {code}")


def _open(url: str) -> None:
    """Open a browser tab; never fail where there is no browser."""
    try:
        webbrowser.open(url)
    except (webbrowser.Error, OSError):
        pass


_stop = stop  # tests/security stop their servers with it
