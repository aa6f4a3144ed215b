"""``routeledger serve [--once]``: the scheduler (ingest, prices, budget alerts, the tuner's
proposal, the weekly report) and, with ``[receiver] otlp_http``, the OTLP/HTTP receiver; or
every due job once for cron (no receiver: it would listen only while the jobs run, and senders
need an endpoint that stays up; ``--once`` still ingests what the receiver spooled)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from app.cli import Ctx, emit_json, main
from app.jobs import JOBS
from collectors import scheduler
from collectors.remote import receiver


@main.command("serve")
@click.option("--once", is_flag=True, help="Run every due job once and exit (for cron).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print one JSON object.")
@click.pass_obj
def serve_cmd(obj: Ctx, once: bool, as_json: bool) -> None:
    """Collect and report on a schedule until SIGTERM or SIGINT (Ctrl-C).

    A stop lets the running jobs finish their current file or unit of work, then exits 0."""
    cfg = obj.config()
    for name in ("collectors.jobs", "collectors.scheduler", "app.jobs", receiver.__name__):
        logging.getLogger(name).setLevel(logging.INFO)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("collectors.scheduler").info(
            "%s received: stopping after the current batch", signal.Signals(signum).name
        )
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    specs = scheduler.default_specs(cfg, JOBS)
    if not once:
        listening = receiver.start(cfg)  # before the jobs: a bad address stops here (exit 2)
        try:
            scheduler.serve(cfg, stop, specs)
        finally:
            if listening is not None:
                listening.stop()
        return
    ran = scheduler.run_due(cfg, stop, specs)
    if as_json:
        emit_json({"jobs": [{"job": n, "status": o.status, "detail": o.detail} for n, o in ran]})
        return
    for name, outcome in ran:
        click.echo(f"{name}: {outcome.status}" + (f" ({outcome.detail})" if outcome.detail else ""))
    if not ran:
        click.echo("no job was due")
