"""``routeledger stats``: cost per successful request, latency and retries per task and model."""

from __future__ import annotations

from datetime import datetime

import click
from rich.table import Table

from app import money, queries
from app import window as window_mod
from app.cli import Ctx, emit_json, main
from app.cli.text import cell, console, print_table
from collectors import pipeline
from collectors.warehouse import Warehouse


@main.command("stats")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First local day (default: calendar.window_days days ending on --until).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last local day, inclusive (default: the last day with data, never after today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def stats_cmd(obj: Ctx, since: datetime | None, until: datetime | None, as_json: bool) -> None:
    """Per task and per model: spend, success, cost per success, P95 latency, retries."""
    cfg = obj.config()
    pipeline.marts_for_reading(cfg)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        w = window_mod.resolve(
            cfg,
            since.date() if since else None,
            until.date() if until else None,
            None if until else queries.data_span(con)[1],
        )
        since_d, until_d = w.as_tuple()
        tasks = queries.task_stats(con, since_d, until_d)
        models = queries.model_task_stats(con, since_d, until_d)
        unpriced = queries.unpriced_attempts(con, since_d, until_d)
    if as_json:
        emit_json(
            {
                "window": w.as_json(),
                "tasks": [{k: queries.json_scalar(v) for k, v in t.items()} for t in tasks],
                "models": [{k: queries.json_scalar(v) for k, v in m.items()} for m in models],
                "unpriced_attempts": unpriced,
            }
        )
        return
    out = console()
    out.print(f"[bold]{since_d} .. {until_d}[/bold] ({cfg.timezone})", highlight=False)
    t = Table(title="Tasks", title_justify="left")
    for col in (
        "task",
        "requests",
        "success",
        "spend",
        "cost / success",
        "P95",
        "retry",
        "fallback",
    ):
        t.add_column(col, justify="left" if col == "task" else "right")
    for r in tasks:
        t.add_row(
            cell(r["task"]),
            f"{r['logical_requests']:,}",
            _pct(r["success_rate"]),
            money.spend_text(r["spend_usd"], r["unpriced_attempts"]),
            money.cost_text(
                r["cost_per_successful_request_usd"], r["price_coverage"], r["cost_unknown_reason"]
            ),
            _ms(r["p95_ms"], r["latency_n"]),
            _pct(r["retry_rate"]),
            _pct(r["fallback_rate"]),
        )
    print_table(out, t)
    m = Table(title="Models", title_justify="left")
    for col in (
        "provider",
        "model",
        "task",
        "attempts",
        "success (95% low)",
        "spend",
        "cost / success",
        "P50",
        "P95",
        "P99",
    ):
        m.add_column(col, justify="left" if col in ("provider", "model", "task") else "right")
    for r in models:
        m.add_row(
            cell(r["provider"]),
            cell(r["model"]),
            cell(r["task"]),
            f"{r['attempts']:,}",
            f"{_pct(r['success_rate'])} ({_pct(r['success_rate_low'])})",
            money.spend_text(r["spend_usd"], r["unpriced_attempts"]),
            money.cost_text(
                r["cost_per_success_usd"],
                r["price_coverage"],
                r["cost_unknown_reason"],
                noun="attempts",
            ),
            _ms(r["p50_ms"]),
            _ms(r["p95_ms"], r["latency_n"]),
            _ms(r["p99_ms"]),
        )
    print_table(out, m)
    if unpriced:
        out.print(
            f"[yellow]{unpriced:,} attempts have no price[/yellow] (see `routeledger prices unmatched`)"
        )


def _pct(v: object) -> str:
    return "-" if v is None else f"{float(v) * 100:.1f}%"  # type: ignore[arg-type]


def _ms(v: object, n: int | None = None) -> str:
    if v is None:
        return "-"
    s = f"{float(v):,.0f} ms"  # type: ignore[arg-type]
    return f"{s} (n={n:,})" if n is not None else s
