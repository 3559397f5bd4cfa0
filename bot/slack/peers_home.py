"""App Home's "Meet a peer" section; bot.slack.personal picks it up automatically."""

from __future__ import annotations

from bot.db.models import utcnow
from bot.knowledge.taxonomy import theme_names
from bot.listeners.context import Services
from bot.peers.preferences import get_choices
from bot.peers.rounds import next_round_date
from bot.ui.peers import home_blocks


def peer_home_blocks(services: Services, team_id: str, user_id: str) -> list:
    settings = services.settings
    names = theme_names(settings.knowledge_dir / "taxonomy.yaml")
    return home_blocks(get_choices(settings, team_id, user_id), names, next_round_date(utcnow()))
