"""`tandem data`: data rights for one person: export, erase, import."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import console, err, team_id
from bot.settings import get_settings

app = typer.Typer(help="Data rights: export, erase, import.", no_args_is_help=True)


@app.command("export")
def data_export(
    user: Annotated[str, typer.Option("--user")],
    team: Annotated[str | None, typer.Option("--team")] = None,
) -> None:
    """Print everything Tandem holds about one person, as JSON."""
    from bot.privacy import export_user

    print(
        json.dumps(
            export_user(get_settings(), team_id(team), user, actor="admin-cli"),
            indent=2,
            ensure_ascii=False,
        )
    )


@app.command("erase")
def data_erase(
    user: Annotated[str, typer.Option("--user")],
    team: Annotated[str | None, typer.Option("--team")] = None,
) -> None:
    """Erase everything Tandem holds about one person."""
    from bot.privacy import erase_user

    existed = erase_user(get_settings(), team_id(team), user, actor="admin-cli")
    console.print(
        "Erased." if existed else "Nothing was held about that person; recorded the request."
    )


@app.command("import")
def data_import(file: Annotated[str, typer.Argument(help="A Tandem export (JSON).")]) -> None:
    """Restore an export: validated first, and written whole or not at all."""
    from pathlib import Path

    from bot.privacy import ImportRejected, import_user

    try:
        raw = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"Could not read {file}: {error}")
        raise typer.Exit(2) from None
    settings = get_settings()
    if not settings.slack_bot_token:
        err.print(
            "Set SLACK_BOT_TOKEN: Tandem asks Slack that the person is in the workspace "
            "before restoring anything for them."
        )
        raise typer.Exit(2)

    def user_exists(team_id: str, user_id: str) -> bool:
        from bot.slack.client import TeamClients

        client = TeamClients(settings).for_team(team_id)
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except Exception:
            return False
        return not user.get("deleted") and user.get("team_id", team_id) == team_id

    try:
        result = import_user(settings, raw, actor="admin-cli", user_exists=user_exists)
    except ImportRejected as problem:
        err.print(
            f"{file} was not imported, and nothing was written: {problem}",
            markup=False,
            soft_wrap=True,  # one line, however narrow the terminal
        )
        raise typer.Exit(1) from None
    except Exception as error:  # never a traceback: it could carry the file's content
        err.print(
            f"{file} was not imported ({type(error).__name__}); nothing was written.",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    console.print(f"Imported {result['entries']} journal entries for {result['slack_user_id']}.")
