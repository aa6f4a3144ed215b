"""``routeledger init``: a home directory with a commented default configuration."""

from __future__ import annotations

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
    cfg = config_mod.load(home)
    Warehouse(cfg.warehouse_path, float(cfg.get("warehouse.lock_timeout_seconds"))).migrate()
    click.echo(f"warehouse ready at {cfg.warehouse_path}")
