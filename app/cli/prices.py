"""``routeledger prices``: refresh the price history, show a model's prices, list unmatched
models, confirm or reject held price changes."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from app.cli import Ctx, emit_json, main
from app.cli.bills import fetch_cmd as bills_fetch_cmd
from app.cli.text import cell, clean, console, inline, print_table
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
    """Price history: refresh sources, show a model, unmatched models, review decisions; the
    providers' bills (``prices bills``, as ``bills fetch``)."""


prices.add_command(bills_fetch_cmd, "bills")


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
    table = Table("source", "status")
    for column in ("models", "changed", "pending review"):
        table.add_column(column, justify="right")
    table.add_column("error")
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
    out = console()
    print_table(out, table)
    if summary.unmatched:
        out.print(
            f"{summary.unmatched} logged model(s) have no price: `routeledger prices unmatched`"
        )


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.6g}"


PER_MTOK = "USD per 1M tokens"
PRICE_COLUMNS = ("input", "cached input", "cache write", "output")  # each in USD per 1M tokens
PRICE_KEYS = ("input_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok", "output_per_mtok")


def in_use(current: list[dict[str, Any]]) -> list[bool]:
    """Which prices in force price the logged requests, as ``int_attempts_priced`` chooses: the
    standard variant (batch and priority are shown for reference), of the sources of highest
    precedence (``source_rank``: override, provider page, openrouter, litellm, catalog). A
    source with a price for every request (no tier, no time window) shadows every source
    after it; a tier or time window of a source before it applies within its range."""
    standard = [e for e in current if e["variant"] == "standard"]
    everywhere = [
        e["source_rank"]
        for e in standard
        if not e["tier_min_prompt_tokens"] and not e["window_start_utc"] and not e["weekdays_only"]
    ]
    shadowed_after = min(everywhere, default=None)
    return [
        e["variant"] == "standard"
        and (shadowed_after is None or e["source_rank"] <= shadowed_after)
        for e in current
    ]


def _version_table(
    title: str, entries: list[dict[str, Any]], history: bool, used: list[bool] | None = None
) -> Table:
    """One row per price version; the tier and window columns only when a version has one."""
    rows = []
    for n, e in enumerate(entries):
        window = (
            f"{e['window_start_utc'][:5]}-{e['window_end_utc'][:5]}"
            if e["window_start_utc"]
            else ""
        )
        row: dict[str, str | Text] = {} if used is None else {"in use": "✓" if used[n] else ""}
        row |= {
            "source": cell(e["source"]),
            "variant": cell(e["variant"]),
            "window (UTC)": window + (" Mon-Fri" if e["weekdays_only"] else ""),
            "tier": f">{e['tier_min_prompt_tokens']:,}" if e["tier_min_prompt_tokens"] else "",
        }
        for column, key in zip(PRICE_COLUMNS, PRICE_KEYS, strict=True):
            row[f"{column} $/1M"] = _money(e[key])
        row["valid from"] = (
            "first seen" if e["valid_from"].startswith("1970") else e["valid_from"][:10]
        )
        if history:
            row["valid to"] = _when(e["valid_to"])
        rows.append(row)
    table = Table(title=f"{title} ({PER_MTOK})", title_justify="left")
    names = list(rows[0]) if rows else []
    for name in names:
        if name in ("tier", "window (UTC)") and not any(r[name] for r in rows):
            continue
        table.add_column(name, justify="right" if name == "tier" or "$" in name else "left")
    for r in rows:
        table.add_row(*(r[c.header] for c in table.columns))  # type: ignore[index]
    return table


def _when(value: str | None) -> str:
    """A UTC timestamp of the history to the minute (``None``: still in force)."""
    return "now" if value is None else value[:16].replace("T", " ")


@prices.command("show")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def show_cmd(obj: Ctx, model: str, as_json: bool) -> None:
    """Prices of MODEL (USD per 1M tokens): the ones in force first, those that price the
    logged requests marked ✓ (in the JSON, "in_use"), then the history."""
    result = api.show(obj.config(), model)
    used = in_use(result["current"])
    for entry, flag in zip(result["current"], used, strict=True):
        entry["in_use"] = flag
    if as_json:
        emit_json(result)
        return
    out = console()
    out.print(
        f"{inline(result['provider'])}/{inline(result['model_id'])}  "
        f"(matched by {inline(result['match_rule'])})",
        highlight=False,
    )
    print_table(out, _version_table("in force", result["current"], history=False, used=used))
    if result["current"]:
        out.print(
            "✓ prices the logged requests: the standard variant of the source of highest "
            "precedence (override, provider page, openrouter, litellm, catalog)",
            highlight=False,
        )
    print_table(out, _version_table("history", result["history"], history=True))
    for r in result["pending_review"]:
        out.print(
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
    table = Table("provider", "model")
    for column in ("attempts", "requests", "input tokens", "output tokens"):
        table.add_column(column, justify="right")
    table.add_column("reason")
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
    out = console()
    print_table(out, table)
    out.print(f"{result['models_matched']} matched, {result['models_unmatched']} unmatched")


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
