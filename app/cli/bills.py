"""``routeledger bills import / fetch / drift``, and ``routeledger prices bills`` (the same
fetch): the providers' usage and cost exports, and their drift from RouteLedger's cost."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from app import bills, queries
from app.cli import Ctx, emit_json, main
from app.cli.text import cell, console, inline, print_table
from collectors import pipeline
from collectors.bills import api
from collectors.bills.fetch import PROVIDERS
from collectors.bills.load import FORMATS
from collectors.warehouse import Warehouse

_DAY = click.DateTime(["%Y-%m-%d"])


@main.group("bills")
def bills_group() -> None:
    """Provider bills: import or fetch usage and cost exports; their drift from RouteLedger."""


def _print_import(res: dict[str, Any]) -> None:
    out = console()
    for f in res["files"]:
        if f.get("error"):
            out.print(f"[red]failed[/red] {inline(f['file'])}: {inline(f['error'])}")
            continue
        days = f["days"]
        span = f"{days[0]} .. {days[-1]}" if days else "no day"
        out.print(
            f"{inline(f['file'])} ({f['format']}): {f['lines_loaded']:,} lines, {span}; "
            f"{f['days_replaced']} days replaced, {f['days_unchanged']} unchanged, "
            f"{f['quarantined']:,} quarantined",
            highlight=False,
        )
    out.print(
        f"[bold]{res['lines_loaded']:,} lines loaded[/bold], {res['days_unchanged']} days "
        f"already imported, {res['quarantined']:,} quarantined "
        f"{res['quarantined_by_reason'] or ''}",
        highlight=False,
    )


def _import_exit(res: dict[str, Any]) -> int:
    bad = [f for f in res["files"] if f.get("error") or not f.get("days")]
    return 1 if bad else 0


@bills_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", *FORMATS)),
    default="auto",
    show_default=True,
    help="Which export the files are (auto: told by their content).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def import_cmd(obj: Ctx, files: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Import usage and cost exports (API pages saved as JSON, console CSVs). Exit 1 when a file
    was not an export or held no day; the same export again changes nothing."""
    res = api.import_files(obj.config(), [Path(f) for f in files], fmt)
    if as_json:
        emit_json(res)
    else:
        _print_import(res)
    sys.exit(_import_exit(res))


def _window(since: datetime | None, until: datetime | None, days: int) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    end = until.date() if until else today
    start = since.date() if since else end - timedelta(days=days)
    return start, end


@click.command("bills")
@click.option("--since", type=_DAY, help="First UTC day (default: bills.fetch_days days ago).")
@click.option("--until", type=_DAY, help="Last UTC day, inclusive (default: today).")
@click.option(
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(PROVIDERS),
    help="Only this provider (repeatable). Default: each whose admin key is set.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def fetch_cmd(
    obj: Ctx,
    since: datetime | None,
    until: datetime | None,
    providers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Fetch the providers' cost and usage reports with admin keys from environment variables
    (bills.openai_key_env, bills.anthropic_key_env). Exit 1 when a provider failed or none had
    a key."""
    cfg = obj.config()
    start, end = _window(since, until, int(cfg.get("bills.fetch_days")))
    res = api.fetch(cfg, start, end, list(providers) or None)
    if as_json:
        emit_json(res)
    else:
        out = console()
        for p in res["providers"]:
            what = ", ".join(p["exports"]) or "nothing"
            line = f"{p['provider']}: {p['status']} ({what}, {p['pages']} pages)"
            out.print(line + (f": {inline(p['error'])}" if p["error"] else ""), highlight=False)
        _print_import(res)
    statuses = {p["status"] for p in res["providers"]}
    sys.exit(1 if "failed" in statuses or statuses <= {"skipped"} else 0)


bills_group.add_command(fetch_cmd, "fetch")


@bills_group.command("drift")
@click.option("--since", type=_DAY, help="First UTC day (default: the bills' last 31 days).")
@click.option("--until", type=_DAY, help="Last UTC day, inclusive (default: the last billed).")
@click.option("--provider", "providers", multiple=True, help="Only this provider (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def drift_cmd(
    obj: Ctx,
    since: datetime | None,
    until: datetime | None,
    providers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Per UTC day and provider: billed, recomputed and gateway-reported cost, the drift and
    where it comes from."""
    cfg = obj.config()
    pipeline.marts_for_reading(cfg)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        span = queries.bill_span(con)
        last = until.date() if until else span["last"] or datetime.now(UTC).date()
        first = since.date() if since else last - timedelta(days=30)
        rows = queries.bill_drift_days(con, first, last, providers)
    for r in rows:
        r["origin_text"] = bills.origin_text(r["origin"])
    if as_json:
        emit_json(
            {
                "window": {"since": first.isoformat(), "until": last.isoformat()},
                "days": [{k: queries.json_scalar(v) for k, v in r.items()} for r in rows],
            }
        )
        return
    out = console()
    if not rows:
        out.print(f"No bill covers {first} .. {last}. {bills.IMPORT_HELP}", highlight=False)
        return
    t = Table(title=f"Bills against RouteLedger, {first} .. {last} (UTC days)")
    for col in ("day", "provider", "billed", "recomputed", "reported", "drift", "share", "origin"):
        t.add_column(col, justify="left" if col in ("day", "provider", "origin") else "right")
    for r in rows:
        t.add_row(
            str(r["day"]),
            cell(r["provider"]),
            bills.usd(r["billed_usd"]),
            bills.usd(r["recomputed_usd"]),
            bills.usd(r["reported_usd"]) if r["reported_usd"] is not None else "-",
            bills.signed_usd(r["drift_usd"]),
            bills.share(r["drift_share"]),
            cell(r["origin_text"]),
        )
    print_table(out, t)
