"""The command line: `python -m engine COMMAND` (database, markets, watchlist, backfill, gaps, export)."""

from __future__ import annotations

import click

from db import migrate
from engine.config import load_settings
from engine.runtime import Runtime, build_runtime, configure_logging


def runtime_from_env(upgrade_schema: bool = True) -> Runtime:
    settings = load_settings()
    configure_logging(settings.log_level)
    return build_runtime(settings, upgrade_schema=upgrade_schema)


@click.group()
def cli() -> None:
    """Tradeblock's engine from the command line."""


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    runtime_from_env(upgrade_schema=True)
    click.echo("schema is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Autogenerate a migration from db/models.py against the current schema."""
    runtime = runtime_from_env(upgrade_schema=True)
    migrate.revision(runtime.db, message)
