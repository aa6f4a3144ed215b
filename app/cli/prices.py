"""``routeledger prices``: refresh the price history, show a model's prices, list unmatched
models, confirm or reject held price changes."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from app.cli import Ctx, emit_json, main
from app.cli.text import cell, clean, inline
from collectors import pipeline
from collectors.prices import api


def _from_file(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not path or name not in api.SOURCES:
            raise click.BadParameter(
                f"{value!r}: expected NAME=PATH with NAME one of {', '.join(api.SOURCES)}"
            )
        out[name] = path
    return out


@main.group("prices")
def prices() -> None:
    """Price history: refresh sources, show a model, unmatched models, review decisions."""


@prices.command("refresh")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(api.SOURCES),
    help="Refresh only this source (repeatable). Default: every source.",
)
@click.option(
    "--from-file",
    "from_files",
    multiple=True,
    callback=_from_file,
    metavar="NAME=PATH",
    help="Read source NAME from a saved file instead of the network (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def refresh_cmd(
    obj: Ctx, sources: tuple[str, ...], from_files: dict[str, str], as_json: bool
) -> None:
    """Fetch every price source; a failing source keeps its prices and is reported (exit 0)."""
    summary = pipeline.refresh_prices(obj.config(), list(sources), from_files)
    if as_json:
        emit_json(summary.as_json())
        return
    table = Table("source", "status", "models", "changed", "pending review", "error")
    for s in summary.sources:
        colour = {"ok": "green", "unchanged": "cyan", "failed": "red"}[s.status]
        table.add_row(
            s.source,
            f"[{colour}]{s.status}[/{colour}]",
            f"{s.models:,}",
            f"{s.changed:,}",
            f"{s.pending_review:,}",
            cell(s.error),
        )
    console = Console()
    console.print(table)
    if summary.unmatched:
        console.print(
            f"{summary.unmatched} logged model(s) have no price: `routeledger prices unmatched`"
        )


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.6g}"


def _version_table(title: str, entries: list[dict[str, Any]], history: bool) -> Table:
    table = Table(title=title, title_justify="left")
    for column in (
        "source",
        "variant",
        "tier",
        "window",
        "input",
        "cached",
        "cache write",
        "output",
    ):
        table.add_column(column)
    table.add_column("valid from")
    if history:
        table.add_column("valid to")
    for e in entries:
        window = f"{e['window_start_utc']}-{e['window_end_utc']}" if e["window_start_utc"] else ""
        row = [
            cell(e["source"]),
            cell(e["variant"]),
            f">{e['tier_min_prompt_tokens']:,}" if e["tier_min_prompt_tokens"] else "",
            window + (" Mon-Fri" if e["weekdays_only"] else ""),
            _money(e["input_per_mtok"]),
            _money(e["cached_input_per_mtok"]),
            _money(e["cache_write_per_mtok"]),
            _money(e["output_per_mtok"]),
            (e["valid_from"] or "")[:10]
            if not e["valid_from"].startswith("1970")
            else "first seen",
        ]
        if history:
            row.append((e["valid_to"] or "now")[:19])
        table.add_row(*row)
    return table


@prices.command("show")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def show_cmd(obj: Ctx, model: str, as_json: bool) -> None:
    """Prices of MODEL (USD per 1M tokens): the one in force first, then the history."""
    result = api.show(obj.config(), model)
    if as_json:
        emit_json(result)
        return
    console = Console()
    console.print(
        f"{inline(result['provider'])}/{inline(result['model_id'])}  "
        f"(matched by {inline(result['match_rule'])})",
        highlight=False,
    )
    console.print(_version_table("in force", result["current"], history=False))
    console.print(_version_table("history", result["history"], history=True))
    for r in result["pending_review"]:
        console.print(
            f"[yellow]pending review[/yellow] {inline(r['source'])}: {inline(r['detail'])}",
            highlight=False,
        )


@prices.command("unmatched")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def unmatched_cmd(obj: Ctx, as_json: bool) -> None:
    """Logged models no price source prices, with their request counts and tokens."""
    result = api.unmatched(obj.config())
    if as_json:
        emit_json(result)
        return
    table = Table(
        "provider", "model", "attempts", "requests", "input tokens", "output tokens", "reason"
    )
    for r in result["unmatched"]:
        table.add_row(
            cell(r["provider"]),
            cell(r["model"]),
            f"{r['attempts']:,}",
            f"{r['requests']:,}",
            f"{r['input_tokens']:,}",
            f"{r['output_tokens']:,}",
            cell(r["reason"]),
        )
    console = Console()
    console.print(table)
    console.print(f"{result['models_matched']} matched, {result['models_unmatched']} unmatched")


@prices.command("confirm")
@click.argument("model")
@click.option("--source", type=click.Choice(api.SOURCES), help="Only the review from this source.")
@click.option("--reject", is_flag=True, help="Reject the held change: the last price stays.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def confirm_cmd(obj: Ctx, model: str, source: str | None, reject: bool, as_json: bool) -> None:
    """Apply (or --reject) the price change or disappearance held for review for MODEL."""
    result = pipeline.confirm_price(obj.config(), model, source, reject=reject)
    if as_json:
        emit_json(result)
        return
    for r in result["reviews"]:
        click.echo(
            clean(
                f"{result['decision']}: {result['provider']}/{result['model_id']} "
                f"{r['source']}: {r['detail']}"
            )
        )
