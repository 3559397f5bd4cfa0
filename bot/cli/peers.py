"""`tandem peers`: run (or preview) a matching round by hand.

The human-readable output is aggregate only: how many introductions, and which themes
brought people together; never a list of who was or wasn't matched. `--dry-run --json`
is the machine contract other tools rely on:
{"groups": [{"members": [user ids], "reasons": [theme slugs]}], "unmatched": [{"user", "why"}]}
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer

app = typer.Typer(help="Peer connections: consent-based introductions.", no_args_is_help=True)


@app.callback()
def peers() -> None:
    """Peer connections: consent-based introductions."""


def _team(settings, team: str | None) -> str:
    from bot.peers.rounds import teams_with_leaders

    if team:
        return team
    teams = teams_with_leaders(settings)
    if len(teams) == 1:
        return teams[0]
    typer.echo(
        "Pass --team T… (the database holds "
        + ("no leaders yet" if not teams else f"{len(teams)} workspaces")
        + ").",
        err=True,
    )
    raise typer.Exit(2)


@app.command("match")
def match(
    team: Annotated[str | None, typer.Option("--team", help="Slack team id.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="As of this ISO 8601 instant (default: now).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Match and show; write and send nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the round's seed.")] = None,
) -> None:
    """Run this period's matching round (once), or preview it with --dry-run."""
    from rich.console import Console

    from bot.cli.common import parse_at
    from bot.db.models import utcnow
    from bot.logging_setup import configure_logging
    from bot.peers.rounds import plan_round
    from bot.settings import get_settings

    settings = get_settings()
    configure_logging("WARNING")
    now = parse_at(at) or utcnow()
    team_id = _team(settings, team)
    sent = 0
    if dry_run:
        plan = plan_round(settings, team_id, now, seed=seed, dry_run=True)
    else:
        from bot.slack.client import TeamClients
        from jobs.peers import send_introductions, start_round

        clients = TeamClients(settings)
        plan = start_round(settings, team_id, now, clients, seed=seed)
        if plan is not None and not plan.already_ran:
            sent = send_introductions(settings, now, clients)
    if plan is None:
        typer.echo("No round falls at or before that time.", err=True)
        raise typer.Exit(1)
    if as_json:
        payload = plan.result.as_json()
        if not dry_run:
            payload.update(round=plan.round_key, already_ran=plan.already_ran, sent=sent)
        print(json.dumps(payload, ensure_ascii=False))
        return
    console = Console()
    if plan.already_ran:
        console.print(f"Round {plan.round_key} has already run for {team_id}; nothing was sent.")
        return
    groups = plan.result.groups
    trios = sum(1 for g in groups if len(g.members) == 3)
    verb = "would be introduced" if dry_run else "introduced"
    console.print(
        f"Round {plan.round_key} (seed {plan.seed}): {len(groups)} introductions {verb} "
        f"({len(groups) - trios} pairs, {trios} trios); "
        f"{len(plan.result.unmatched)} without a match this time."
    )
    themes = Counter(slug for g in groups for slug in g.reasons)
    if themes:
        console.print(
            "Themes behind them: " + ", ".join(f"{slug} ({n})" for slug, n in themes.most_common(5))
        )
    if not dry_run:
        console.print(f"Introductions sent now: {sent} (any others go out on the next tick).")
