"""The reflection modal: save the entry with its sharing choice, then thank in the thread."""

from __future__ import annotations

import json
from functools import partial

from bot.listeners.context import Services, ack_unless_blank
from bot.reflection.checkins import owned_checkin
from bot.reflection.journal import NotYours, add_entry
from bot.slack.reflection_reply import thank
from bot.statuses import Sharing
from bot.ui import checkins as ui


def handle_check_reflection(ack, view: dict) -> None:
    """In the ack, so an empty reflection is pointed out on the form itself."""
    values = view["state"]["values"]
    text = values.get(ui.REFLECTION_BLOCK, {}).get(ui.REFLECTION_ACTION, {}).get("value")
    ack_unless_blank(ack, text, ui.REFLECTION_BLOCK, "Write a few words, or close this for now.")


def handle_save_reflection(services: Services, body: dict, view: dict, client) -> None:
    settings = services.settings
    values = view["state"]["values"]
    text = values[ui.REFLECTION_BLOCK][ui.REFLECTION_ACTION].get("value") or ""
    choice = (
        values.get(ui.SHARING_BLOCK, {}).get(ui.SHARING_ACTION, {}).get("selected_option") or {}
    ).get("value", Sharing.PRIVATE)
    checkin_id = json.loads(view.get("private_metadata") or "{}").get("checkin")
    team = (body.get("team") or {}).get("id", "")
    try:
        checkin, leader = owned_checkin(settings, int(checkin_id), team, body["user"]["id"])
    except (NotYours, TypeError, ValueError):
        return
    add_entry(
        settings,
        leader.id,
        text,
        checkin_id=checkin.id,
        question_id=checkin.question_id,
        source="modal",
        sharing=choice,
    )
    thank(services, client, checkin, leader, text)


def register(app, services: Services) -> None:
    app.view_submission(ui.CALLBACK_REFLECTION)(
        ack=handle_check_reflection, lazy=[partial(handle_save_reflection, services)]
    )
