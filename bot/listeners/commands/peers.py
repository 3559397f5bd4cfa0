"""`/tandem peers`: join peer introductions, or see and change your choices (privately)."""

from __future__ import annotations

from functools import partial

from bot.db.models import utcnow
from bot.knowledge.taxonomy import theme_names
from bot.listeners.commands.registry import Subcommand
from bot.listeners.context import Services
from bot.peers.preferences import get_choices
from bot.peers.rounds import next_round_date
from bot.ui.peers import command_blocks


def run_peers(services: Services, command, rest: str, respond, client) -> None:
    settings = services.settings
    choices = get_choices(settings, command.get("team_id", ""), command["user_id"])
    names = theme_names(settings.knowledge_dir / "taxonomy.yaml")
    blocks, text = command_blocks(choices, names, next_round_date(utcnow()))
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


def register(services: Services) -> None:
    services.commands.add(
        Subcommand(
            "peers",
            "/tandem peers",
            "an occasional introduction to a peer thinking about similar things",
            "Looking up your peer introductions…",
            run=partial(run_peers, services),
        )
    )
