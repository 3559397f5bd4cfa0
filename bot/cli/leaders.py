"""`tandem leaders`: enrol a cohort from a CSV file."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import console, err, team_id
from bot.settings import get_settings

app = typer.Typer(help="Leaders taking part in check-ins.", no_args_is_help=True)


@app.command("import")
def leaders_import(
    file: Annotated[
        str,
        typer.Argument(
            help="CSV: slack_user_id, organisation, time_zone, cadence, day, time, consent"
        ),
    ],
    team: Annotated[
        str | None, typer.Option("--team", help="Slack team id (default: ask Slack).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """Enrol a cohort: consent=yes enrols; others get an invitation DM on the next tick."""
    from pathlib import Path

    from bot.cohort import import_leaders

    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"Could not read {file}: {error}")
        raise typer.Exit(2) from None
    report = import_leaders(get_settings(), team_id(team), text)
    if as_json:
        print(
            json.dumps(
                {
                    "enrolled": report.enrolled,
                    "invited": report.invited,
                    "updated": report.updated,
                    "problems": report.problems,
                }
            )
        )
    else:
        console.print(
            f"Enrolled {report.enrolled}, invited {report.invited}, updated {report.updated}."
        )
        for problem in report.problems:
            err.print(f"{file}: {problem}", markup=False, highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(1)
