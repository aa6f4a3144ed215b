"""The ``routeledger`` command (click). Errors are rendered once, here: one line on stderr and a
non-zero exit; ``--json`` commands print exactly one JSON object on stdout.

What reaches stderr is redacted (:mod:`collectors.redact`): error lines and every log record,
tracebacks included, have credential-shaped strings replaced, and an unexpected error is one
line with the values it quoted elided (the traceback only with ``-v``). httpx logs each request
URL at INFO, and a webhook URL is a secret, so its loggers stay at WARNING even with ``-v``.
"""

from __future__ import annotations

import difflib
import importlib
import json
import logging
import sys
from typing import Any

import click

from collectors import config as config_mod
from collectors.errors import InputError, RouteLedgerError
from collectors.redact import RedactingFilter, describe

log = logging.getLogger("routeledger.cli")
QUIET_LOGGERS = ("httpx", "httpcore")  # they log full request URLs (a webhook's token) at INFO


class Ctx:
    def __init__(self, home: str | None) -> None:
        self.home = home

    def config(self) -> config_mod.Config:
        """The home's configuration. Only ``init`` and ``demo`` create a home: every other
        command names the home it looked for and stops (exit 2), rather than start an empty
        warehouse wherever it was run."""
        root = config_mod.resolve_home(self.home)
        if not root.is_dir():
            raise InputError(
                f"{root}: no RouteLedger home here; run `routeledger init` (or `routeledger "
                "demo`) first, or point --home / ROUTELEDGER_HOME at an existing one"
            )
        return config_mod.load(root)


# command -> the module of app.cli that registers it, imported when the command is looked up:
# `routeledger ingest` from cron starts without the dashboard's, the demo's or the report's
# libraries (half a second of imports, a third of a run with nothing new to read)
COMMANDS = {
    "bills": "bills", "dashboard": "dashboard", "demo": "demo", "evals": "tune",
    "ingest": "ingest", "init": "init", "manifest": "tune", "prices": "prices", "report": "report",
    "serve": "serve", "stats": "stats", "tune": "tune",
}  # fmt: skip


class Main(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"app.cli.{COMMANDS[cmd_name]}")  # registers it on main
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click suggests only among the commands already imported; a mistyped name gets the
        closest of every command here: `routeledger stat` -> "Did you mean 'stats'?" (exit 2)."""
        name = click.utils.make_str(args[0])
        known = self.list_commands(ctx)
        if name not in known and not name.startswith("-") and not ctx.resilient_parsing:
            close = difflib.get_close_matches(name, known)
            hint = f" Did you mean {close[0]!r}?" if len(close) == 1 else ""
            if len(close) > 1:
                hint = f" Did you mean one of: {', '.join(repr(c) for c in close)}?"
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RouteLedgerError as e:
            click.echo(f"routeledger: error: {describe(e)}", err=True)
            sys.exit(2)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as e:  # noqa: BLE001  (the edge: one redacted line; -v adds the traceback)
            verbose = logging.getLogger().isEnabledFor(logging.INFO)
            log.log(logging.ERROR if verbose else logging.DEBUG, "unexpected error", exc_info=True)
            hint = "" if verbose else " (run with -v for the traceback)"
            click.echo(f"routeledger: error: {describe(e)}{hint}", err=True)
            sys.exit(1)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="ROUTELEDGER_HOME",
    help="Home directory (config, warehouse, manifests, reports). "
    "Default: $ROUTELEDGER_HOME, else ./.routeledger",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
@click.pass_context
def main(ctx: click.Context, home: str | None, verbose: bool) -> None:
    """RouteLedger: cost observability and routing-table tuning for LLM gateways."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = Ctx(home)


def emit_json(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, default=str, sort_keys=False))
