"""`tandem db`: the database's migrations."""

from __future__ import annotations

import typer

from bot.cli.common import console
from bot.settings import get_settings

app = typer.Typer(help="The database.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations (a fresh database is migrated automatically too)."""
    from bot.db.engine import current_revision, get_engine, upgrade

    engine = get_engine(get_settings(), migrate=False)
    upgrade(engine, revision)
    console.print(f"Database at revision {current_revision(engine)}.")
