"""``routeledger ingest``: gateway logs into the warehouse, exactly once."""

from __future__ import annotations

import sys
from contextlib import ExitStack

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.cli import Ctx, emit_json, main
from app.cli.text import inline
from collectors.ingest import IngestSummary
from collectors.logs import FORMAT_NAMES
from collectors.pipeline import ingest

PROGRESS_MIN_BYTES = 8 * 1024 * 1024


@main.command("ingest")
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", *FORMAT_NAMES)),
    default="auto",
    show_default=True,
    help="Log format; auto recognises each file or says why it cannot.",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False),
    help="Mapping file for --format mapped (or a shipped one: envoy-ai-gateway, kong-ai-gateway).",
)
@click.option(
    "--no-refresh",
    is_flag=True,
    help="Only load: leave the marts for the next run (a backfill of many files refreshes once).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def ingest_cmd(
    obj: Ctx,
    paths: tuple[str, ...],
    fmt: str,
    mapping: str | None,
    no_refresh: bool,
    as_json: bool,
) -> None:
    """Load log files (paths, globs or folders; the config's sources when none), then bring the
    marts up to date (any run also catches up marts an earlier run left behind).

    Exit 0 when everything given loaded (quarantined rows included); 1 when the run completed
    but a file failed or loaded nothing, or a glob matched nothing (the summary says which and
    why); 2 when it could not run."""
    cfg = obj.config()
    if not paths and not cfg.sources and not cfg.get("receiver.otlp_http"):
        raise click.UsageError("no paths given and no [[sources]] in routeledger.toml")
    with ExitStack() as stack:
        progress = None
        if not as_json and sys.stderr.isatty():
            bar = stack.enter_context(
                Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                    transient=True,
                )
            )
            tasks: dict[str, int] = {}

            def progress(name: str, done: int, total: int) -> None:
                if total < PROGRESS_MIN_BYTES:
                    return
                if name not in tasks:
                    tasks[name] = bar.add_task(name[-40:], total=total)
                bar.update(tasks[name], completed=done)

        summary = ingest(cfg, list(paths) or None, fmt, mapping, progress, refresh=not no_refresh)
    if as_json:
        emit_json(summary.as_json())
    else:
        _print(summary)
    if not summary.complete:  # the summary says which file or pattern, and why
        raise SystemExit(1)


def _print(s: IngestSummary) -> None:
    console = Console()
    t = Table(show_header=False, box=None)
    for r in s.remote:
        read = f"{r.rows:,} records read" if r.status == "ok" else f"{r.status}: {r.error or ''}"
        t.add_row(f"source {r.source}", read)
    t.add_row("files", f"{s.files:,}")
    t.add_row("attempts loaded", f"{s.attempts_loaded:,}")
    t.add_row("logical requests", f"{s.logical_requests:,}")
    t.add_row("duplicates skipped", f"{s.duplicates_skipped:,}")
    t.add_row(
        "quarantined",
        f"{s.quarantined:,}"
        + (
            "  ("
            + ", ".join(f"{k} {v:,}" for k, v in sorted(s.quarantined_by_reason.items()))
            + ")"
            if s.quarantined
            else ""
        ),
    )
    if s.skipped:
        t.add_row("skipped (not LLM calls)", f"{s.skipped:,}")
    if s.first_started_at:
        t.add_row(
            "time span",
            f"{s.first_started_at:%Y-%m-%d %H:%M} .. {s.last_started_at:%Y-%m-%d %H:%M} UTC",
        )
    if s.waiting_bytes:
        t.add_row("waiting", f"{s.waiting_bytes:,} bytes of an incomplete last line (next run)")
    console.print(t)
    for f in s.failed_files:
        console.print(
            f"[red]failed[/red] {inline(f['file'])}: {inline(f['error'])}", highlight=False
        )
    for f in s.loaded_nothing:
        console.print(
            f"[red]loaded nothing[/red] {inline(f['file'])}: {inline(f['why'])}", highlight=False
        )
    for g in s.unmatched_globs:
        console.print(f"[red]no file matches[/red] {inline(g)}", highlight=False)
