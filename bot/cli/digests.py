"""`tandem digest`: set up a channel's digest and run it by hand.

`tandem digest run --json` prints the digest as data, with exactly these keys:
channel, period, group_size_band, themes [{slug, band}], guidance {doc_id, title},
question, connections_band, text (suppressed parts are "", [] or {}). Tools rely on it.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import console, err, parse_at, team_id
from bot.settings import get_settings

app = typer.Typer(
    help="Team channel digests: shared themes, never who took part.", no_args_is_help=True
)


def _workspace(team: str | None) -> str:
    return team_id(team)


@app.command("configure")
def configure(
    channel: Annotated[str, typer.Option("--channel", help="The channel id, like C0123ABCD.")],
    day: Annotated[str, typer.Option("--day", help="mon … sun")] = "fri",
    time: Annotated[str, typer.Option("--time", help="Local time, like 15:00.")] = "15:00",
    tz: Annotated[str, typer.Option("--tz", help="Time zone, like Europe/London.")] = (
        "Europe/London"
    ),
    k: Annotated[int, typer.Option("--k", help="Minimum group size (at least 3).")] = 5,
    cadence: Annotated[str, typer.Option("--cadence", help="weekly or fortnightly")] = "weekly",
    sections: Annotated[
        str, typer.Option("--sections", help="Comma-separated sections to include.")
    ] = "themes,guidance,question,connections,invitation",
    team: Annotated[str | None, typer.Option("--team", help="Slack team id.")] = None,
) -> None:
    """Set up (or change) a channel's reflection digest."""
    from bot.digests.config import DigestConfigError, check_settings, configure_digest

    try:
        check_settings(cadence, day, time, tz, k, sections)  # before anything else is asked
    except DigestConfigError as problem:
        err.print(f"Not configured: {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    config = configure_digest(
        get_settings(),
        _workspace(team),
        channel,
        cadence=cadence,
        day=day,
        local_time=time,
        time_zone=tz,
        k=k,
        sections=sections,
        configured_by="admin-cli",
    )
    console.print(
        f"Digest for {config.channel_id}: {config.cadence} on {config.day} at "
        f"{config.local_time} ({config.time_zone}), minimum group size {config.k}, "
        f"sections: {', '.join(config.sections)}.",
        markup=False,
        highlight=False,
    )


@app.command("run")
def run(
    channel: Annotated[str, typer.Option("--channel", help="The channel id.")],
    team: Annotated[str | None, typer.Option("--team", help="Slack team id.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Run as of this ISO 8601 instant (default now).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            metavar="",
            help="Show it without posting. What it shows is fixed as the period's digest.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the digest as data.")
    ] = False,
) -> None:
    """Post the digest due at --at (the latest scheduled one), once; or just show it."""
    from bot.db.models import utcnow
    from bot.digests import service
    from bot.digests.config import get_config
    from bot.logging_setup import configure_logging
    from bot.slack.client import TeamClients
    from jobs.digests import ALREADY, FAILED, UNSENT, deliver, show_release

    settings = get_settings()
    configure_logging("WARNING")
    moment = parse_at(at) or utcnow()
    team_id = _workspace(team)
    config = get_config(settings, team_id, channel)
    if config is None:
        err.print(f"No digest is set up for {channel}; `tandem digest configure` first.")
        raise typer.Exit(1)
    client = TeamClients(settings).for_team(team_id)
    if client is None:
        err.print("Set SLACK_BOT_TOKEN: the digest needs the channel's members from Slack.")
        raise typer.Exit(2)
    period = service.period_due_at(config, moment)
    if period is None:
        err.print("No digest has been scheduled yet for that time.")
        raise typer.Exit(1)
    outcome = "dry run"
    if dry_run:
        digest = show_release(settings, client, config, period, moment)
    else:
        digest, outcome = deliver(settings, client, config, period)
        if outcome == FAILED:
            err.print("The digest could not be posted; it is recorded as a failed send.")
            raise typer.Exit(1)
        if outcome == UNSENT:
            err.print("Slack could not be reached just now; the next tick will post the digest.")
            raise typer.Exit(1)
        if outcome == ALREADY:
            err.print(f"The digest for {period.key} was already posted; nothing new was posted.")
            digest = show_release(settings, client, config, period, moment)
    if digest is None:  # released before releases kept their content
        err.print(f"The digest for {period.key} went out before this version; it can't be shown.")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(digest.as_json(), ensure_ascii=False))
        return
    _print(digest)
    messages = {
        "dry run": "Dry run: nothing was posted. This is now fixed as the digest for "
        f"{period.key}, so a later run shows and posts exactly this.",
        ALREADY: "Nothing new was posted.",
    }
    console.print(messages.get(outcome, "Posted."), highlight=False)


def _print(digest) -> None:
    from bot.ui.digests import detail_blocks

    console.print(f"[bold]{digest.headline}[/bold] ({digest.period})", highlight=False)
    console.print(detail_blocks(digest)[1], markup=False, highlight=False)
