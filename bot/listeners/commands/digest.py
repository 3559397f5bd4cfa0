"""`/tandem digest setup` and `/tandem digest preview`, in a team channel."""

from __future__ import annotations

from functools import partial

from slack_sdk.errors import SlackApiError

from bot.db.models import utcnow
from bot.digests import service
from bot.digests.config import get_config, may_configure, may_preview
from bot.listeners.commands.registry import Subcommand
from bot.listeners.context import Services
from bot.ui import digests as ui
from bot.ui.answer import to_dicts
from jobs.digests import channel_members, show_release


def _is_channel(channel_id: str) -> bool:
    return channel_id.startswith(("C", "G"))


def _ephemeral(ack_or_respond, text: str, blocks=None) -> None:
    ack_or_respond(text=text, blocks=blocks or [], response_type="ephemeral")


def ack_digest(services: Services, ack, command, client, rest: str) -> None:
    settings = services.settings
    action = rest.split(" ", 1)[0].lower()
    channel, user = command.get("channel_id", ""), command["user_id"]
    if action not in ("setup", "preview"):
        _ephemeral(ack, ui.DIGEST_USAGE)
        return
    if not _is_channel(channel):
        _ephemeral(ack, ui.NOT_A_CHANNEL)
        return
    if action == "preview":
        _ephemeral(ack, ui.PREVIEW_WORKING)
        return
    # Set-up: decide and open the modal inside the ack, while the trigger_id is fresh.
    try:
        members = channel_members(client, channel)
    except SlackApiError:  # a private channel Tandem has not been invited to
        _ephemeral(ack, ui.INVITE_ME_FIRST)
        return
    info = client.users_info(user=user).get("user", {})
    if not may_configure(settings, user, info, members):
        _ephemeral(ack, ui.SETUP_NOT_ALLOWED)
        return
    team = command.get("team_id", "")
    client.views_open(
        trigger_id=command["trigger_id"],
        view=ui.setup_modal(team, channel, get_config(settings, team, channel)),
    )
    ack()


def run_digest(services: Services, command, rest: str, respond, client) -> None:
    if rest.split(" ", 1)[0].lower() != "preview" or not _is_channel(command.get("channel_id", "")):
        return
    settings = services.settings
    team, channel, user = command.get("team_id", ""), command["channel_id"], command["user_id"]
    config = get_config(settings, team, channel)
    if config is None:
        respond(text=ui.NO_DIGEST_YET, response_type="ephemeral", replace_original=True)
        return
    if not may_preview(settings, user, config):
        respond(text=ui.PREVIEW_NOT_ALLOWED, response_type="ephemeral", replace_original=True)
        return
    now = utcnow()
    period, next_local = service.period_in_progress(config, now)
    digest = show_release(settings, client, config, period, now)
    if digest is None:
        respond(text=ui.NO_DIGEST_YET, response_type="ephemeral", replace_original=True)
        return
    blocks, text = ui.preview_blocks(digest, next_local)
    respond(text=text, blocks=to_dicts(blocks), response_type="ephemeral", replace_original=True)


def register(services: Services) -> None:
    services.commands.add(
        Subcommand(
            "digest",
            "/tandem digest setup | preview",
            "a weekly reflection digest for this channel: shared themes, never who took part",
            ack_handler=partial(ack_digest, services),
            run=partial(run_digest, services),
        )
    )
