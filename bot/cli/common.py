"""What every `tandem` command group shares: the consoles, reading an instant or stdin items,
finding the workspace.

Flags are declared with metavar="": typer 0.29 with click 8.5 would otherwise print a flag
such as --reset as "--reset <bool>", as if it took a value.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator

import typer
from rich.console import Console

from bot.settings import get_settings

console = Console()
err = Console(stderr=True)


def each_input(arg: str) -> Iterator[str]:
    """`-` means one item per stdin line; anything else is a single item."""
    if arg == "-":
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line.strip():
                yield line
    else:
        yield arg


def parse_at(at: str | None) -> dt.datetime | None:
    """An ISO 8601 instant as Tandem stores times (naive UTC); None when not given."""
    if not at:
        return None
    try:
        moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        err.print(f"'{at}' is not an ISO 8601 time like 2026-11-30T09:00:00Z")
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def team_id(team: str | None) -> str:
    """The workspace a command acts on: `--team`, or Slack's answer for the bot token."""
    if team:
        return team
    settings = get_settings()
    if settings.slack_bot_token:
        from bot.slack.client import make_web_client

        try:
            return make_web_client(settings, settings.secret_value("slack_bot_token")).auth_test()[
                "team_id"
            ]
        except Exception as error:
            err.print(
                f"Could not ask Slack which workspace this is ({type(error).__name__}); pass --team."
            )
            raise typer.Exit(2) from None
    err.print("Pass --team T… (no SLACK_BOT_TOKEN to ask Slack which workspace this is).")
    raise typer.Exit(2)
