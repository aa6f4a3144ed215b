"""``routeledger report weekly``: build and save a week's cost report; send it on demand."""

from __future__ import annotations

import click

from app import money
from app.cli import Ctx, emit_json, main
from app.reports import weekly
from app.reports.deliver import email_configured, webhook_configured
from app.reports.render import signed_pct


@main.group("report")
def report() -> None:
    """The weekly cost report (saved under <home>/reports/<week>/)."""


def _addresses(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    out = [a.strip() for v in values for a in v.split(",") if a.strip()]
    for a in out:
        if "@" not in a or any(c in a for c in "\r\n<>"):
            raise click.BadParameter(f"{a!r} is not an e-mail address")
    return out


@report.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week (default: the last complete week).")
@click.option("--send", is_flag=True, help="Send it on every configured channel, even if sent.")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    callback=_addresses,
    help="E-mail it to these addresses instead of delivery.recipients (repeat or comma-separate; "
    "with --send).",
)
@click.option("--out", type=click.Path(file_okay=False), help="Save into DIR instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def weekly_cmd(
    obj: Ctx, week: str | None, send: bool, to: list[str], out: str | None, as_json: bool
) -> None:
    """Build a week's report: HTML, plain text, the model x task CSV and JSON."""
    if to and not send:
        raise click.UsageError("--to is used with --send")
    cfg = obj.config()
    if send and not to and not (email_configured(cfg) or webhook_configured(cfg)):
        raise click.UsageError(
            "--send: no delivery configured; set delivery.recipients with [delivery.smtp], "
            "or delivery.webhook_url, in routeledger.toml (or give --to)"
        )
    res = weekly(cfg, week, send=send, recipients=to or None, out=out)
    if as_json:
        emit_json(res.as_json())
    else:
        t = res.report["totals"]
        click.echo(
            f"{res.week.label} ({res.week.since} to {res.week.until}): "
            f"{money.spend_text(t['spend_usd'], t.get('unpriced_attempts'))} "
            f"({signed_pct(t['change_pct'])} vs {res.report['previous_week']}), "
            f"{t['logical_requests']:,} requests"
        )
        for kind, path in res.files.items():
            click.echo(f"  {kind:5} {path}")
        for d in res.deliveries:
            line = f"  sent by {d['channel']} to {d['target']}: {d['status']}"
            click.echo(line + (f" ({d['detail']})" if d["detail"] else ""))
    if any(d["status"] != "sent" for d in res.deliveries):
        raise SystemExit(1)
