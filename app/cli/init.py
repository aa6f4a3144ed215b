"""``routeledger init``: a home directory with a commented default configuration.

It also writes ``<home>/.gitignore`` ignoring everything in the home (as pytest does for its
cache directory): ``routeledger.toml`` may hold ``delivery.webhook_url`` (a secret) and the
approvers' password hashes, and the warehouse and reports hold your usage data, so none of it
belongs in version control. An existing ``.gitignore`` is kept, and a home that is itself the
top of a git work tree (``--home .``) gets none, since ``*`` there would ignore the project.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli import Ctx, main
from collectors import config as config_mod
from collectors.warehouse import Warehouse


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing routeledger.toml.")
@click.pass_obj
def init(obj: Ctx, force: bool) -> None:
    """Write a commented routeledger.toml and create the warehouse."""
    home = config_mod.resolve_home(obj.home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / config_mod.CONFIG_NAME
    if path.exists() and not force:
        click.echo(f"{path} exists; keeping it (use --force to overwrite)")
    else:
        path.write_text(config_mod.default_toml(), encoding="utf-8")
        click.echo(f"wrote {path}")
    ignore = write_gitignore(home)
    if ignore is not None:
        click.echo(f"wrote {ignore} (keeps the configuration and data out of git)")
    cfg = config_mod.load(home)
    Warehouse.from_config(cfg).migrate()
    click.echo(f"warehouse ready at {Warehouse.from_config(cfg).describe()}")


GITIGNORE = """\
# Written by `routeledger init`: nothing in a RouteLedger home belongs in version control.
# routeledger.toml may hold delivery.webhook_url (a secret) and dashboard.approvers; the
# warehouse, reports and manifest copies hold your usage data. SMTP credentials come from the
# environment variables named by delivery.smtp.username_env and password_env.
*
"""


def write_gitignore(home: Path) -> Path | None:
    """Write ``home/.gitignore`` ignoring the whole home; None when one exists already or the
    home is the top of a git work tree."""
    path = home / ".gitignore"
    if path.exists() or (home / ".git").exists():
        return None
    path.write_text(GITIGNORE, encoding="utf-8")
    return path
