"""Modals for a leader's own settings, entry edits and erasure: one `handle_*` per step."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial

from slack_sdk.webhook import WebhookClient

from bot import clock
from bot.listeners.context import Services, ack_at_once, ack_unless_blank, team_of
from bot.reflection import journal
from bot.reflection.leaders import update_leader
from bot.schedule import Schedule
from bot.slack.personal import erase, journal_message, publish_home
from bot.text import join_themes
from bot.ui import journal as journal_ui


def _value(values: dict, block: str):
    element = values.get(block, {}).get("v", {})
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_options" in element:
        return [o["value"] for o in element["selected_options"] or []]
    if "selected_date" in element:
        return element["selected_date"]
    return element.get("value")


def settings_changes(view: dict) -> dict:
    """The schedule modal's answers as `update_leader` changes."""
    values = view["state"]["values"]
    quiet = _value(values, "quiet") or "none"
    start, _, end = quiet.partition("-") if quiet != "none" else (None, None, None)
    return {
        "cadence": _value(values, "cadence"),
        "day": _value(values, "day"),
        "local_time": _value(values, "time"),
        "time_zone": _value(values, "tz"),
        "quiet_start": start or None,
        "quiet_end": end or None,
        "focus_themes": join_themes(_value(values, "focus") or []),
        "guidance_after_answer": bool(_value(values, "guidance")),
    }


def _edited_text(view: dict) -> str | None:
    return view["state"]["values"][journal_ui.EDIT_BLOCK][journal_ui.EDIT_ACTION].get("value")


# Acks: checked in the request (pure, no database), so a problem shows on the form itself.


def handle_check_settings(ack, view: dict) -> None:
    changes = settings_changes(view)
    try:
        Schedule(
            changes["cadence"] or "weekly",
            changes["day"] or "fri",
            changes["local_time"] or "09:30",
            changes["time_zone"] or "Europe/London",
            clock.utcnow().date(),
            changes["quiet_start"],
            changes["quiet_end"],
        )
    except ValueError as problem:
        ack(response_action="errors", errors={"time": str(problem)})
        return
    ack()


def handle_check_pause(ack, view: dict) -> None:
    raw = _value(view["state"]["values"], "until")
    try:
        until = dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        ack(response_action="errors", errors={"until": "Pick a date."})
        return
    if until <= clock.utcnow().date():
        ack(response_action="errors", errors={"until": "Pick a date after today."})
        return
    ack()


def handle_check_edit(ack, view: dict) -> None:
    message = "To remove an entry, use Delete instead."
    ack_unless_blank(ack, _edited_text(view), journal_ui.EDIT_BLOCK, message)


# After the ack: the writes and App Home's redraw.


def handle_save_settings(services: Services, body: dict, view: dict, client) -> None:
    team, user = team_of(body), body["user"]["id"]
    update_leader(services.settings, team, user, **settings_changes(view))
    publish_home(services, client, team, user)


def handle_save_pause(services: Services, body: dict, view: dict, client) -> None:
    until = dt.date.fromisoformat(_value(view["state"]["values"], "until"))
    team, user = team_of(body), body["user"]["id"]
    update_leader(services.settings, team, user, paused_until=until)
    publish_home(services, client, team, user)


def handle_save_edit(services: Services, body: dict, view: dict) -> None:
    settings = services.settings
    metadata = json.loads(view.get("private_metadata") or "{}")
    leader_id = journal.leader_id_for(settings, team_of(body), body["user"]["id"])
    try:
        journal.edit_entry(
            settings, leader_id, int(metadata.get("entry")), _edited_text(view) or ""
        )
    except (journal.NotYours, TypeError, ValueError):
        return  # not theirs (or malformed): nothing changes
    if metadata.get("response_url"):
        blocks, fallback = journal_message(
            services, team_of(body), body["user"]["id"], note=journal_ui.EDITED_TEXT
        )
        WebhookClient(metadata["response_url"]).send(
            text=fallback, blocks=blocks, response_type="ephemeral", replace_original=True
        )


def handle_confirm_forget(services: Services, body: dict, client, context) -> None:
    team, user = team_of(body), body["user"]["id"]
    erase(services, client, team, user, context.bot_user_id)
    publish_home(services, client, team, user)


def register(app, services: Services) -> None:
    # Values are checked in the ack; the writes and App Home's redraw come after it.
    app.view_submission(journal_ui.CALLBACK_SETTINGS)(
        ack=handle_check_settings, lazy=[partial(handle_save_settings, services)]
    )
    app.view_submission(journal_ui.CALLBACK_PAUSE)(
        ack=handle_check_pause, lazy=[partial(handle_save_pause, services)]
    )
    app.view_submission(journal_ui.CALLBACK_EDIT)(
        ack=handle_check_edit, lazy=[partial(handle_save_edit, services)]
    )
    app.view_submission(journal_ui.CALLBACK_FORGET)(
        ack=ack_at_once, lazy=[partial(handle_confirm_forget, services)]
    )
