"""The digest set-up modal: check the values in the ack, save after it, confirm privately."""

from __future__ import annotations

import json
from functools import partial

from bot.digests.config import DigestConfigError, check_settings, configure_digest, may_configure
from bot.listeners.context import Services
from bot.ui import digests as ui
from jobs.digests import channel_members

# Which modal block shows the message when a value is not usable.
_BLOCK_FOR = {"cadence": "cadence", "day": "day", "time": "time", "tz": "tz", "k": "k"}


def _where(view: dict) -> tuple[str, str]:
    meta = json.loads(view.get("private_metadata") or "{}")
    return meta.get("team", ""), meta.get("channel", "")


def handle_check_setup(ack, view: dict) -> None:
    """In the ack (pure), so a value that is not usable shows on the form itself."""
    values = ui.setup_values(view["state"]["values"])
    try:
        check_settings(
            values["cadence"],
            values["day"],
            values["time"],
            values["tz"],
            values["k"],
            values["sections"] or [],
        )
    except DigestConfigError as problem:
        block = _BLOCK_FOR.get(problem.field, "sections")
        ack(response_action="errors", errors={block: str(problem)})
        return
    ack()


def handle_save_setup(services: Services, body: dict, view: dict, client) -> None:
    settings = services.settings
    team, channel = _where(view)
    user = body["user"]["id"]
    team = team or (body.get("team") or {}).get("id", "")
    info = client.users_info(user=user).get("user", {})
    if not may_configure(settings, user, info, channel_members(client, channel)):
        client.chat_postEphemeral(channel=channel, user=user, text=ui.SETUP_NOT_ALLOWED)
        return
    values = ui.setup_values(view["state"]["values"])
    config = configure_digest(
        settings,
        team,
        channel,
        cadence=values["cadence"],
        day=values["day"],
        local_time=values["time"],
        time_zone=values["tz"],
        k=values["k"],
        sections=values["sections"] or [],
        configured_by=user,
    )
    client.chat_postEphemeral(channel=channel, user=user, text=ui.saved_text(config))


def register(app, services: Services) -> None:
    app.view_submission(ui.CALLBACK_SETUP)(
        ack=handle_check_setup, lazy=[partial(handle_save_setup, services)]
    )
