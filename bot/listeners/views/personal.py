"""Modals for a leader's own settings, entry edits and erasure."""

from __future__ import annotations

import datetime as dt
import json

from slack_sdk.webhook import WebhookClient

from bot.listeners.context import Services, team_of
from bot.listeners.personal import erase, journal_message, publish_home
from bot.reflection import journal
from bot.reflection.leaders import update_leader
from bot.reflection.schedule import ScheduleError
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


def register(app, services: Services) -> None:
    settings = services.settings

    def save_settings(ack, body, view, client):
        values = view["state"]["values"]
        quiet = _value(values, "quiet") or "none"
        start, _, end = quiet.partition("-") if quiet != "none" else (None, None, None)
        changes = {
            "cadence": _value(values, "cadence"),
            "day": _value(values, "day"),
            "local_time": _value(values, "time"),
            "time_zone": _value(values, "tz"),
            "quiet_start": start or None,
            "quiet_end": end or None,
            "focus_themes": ",".join(_value(values, "focus") or []),
            "guidance_after_answer": bool(_value(values, "guidance")),
        }
        try:
            update_leader(settings, team_of(body), body["user"]["id"], **changes)
        except ScheduleError as problem:
            ack(response_action="errors", errors={"time": str(problem)})
            return
        ack()
        publish_home(services, client, team_of(body), body["user"]["id"])

    def save_pause(ack, body, view, client):
        raw = _value(view["state"]["values"], "until")
        try:
            until = dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            ack(response_action="errors", errors={"until": "Pick a date."})
            return
        if until <= dt.date.today():
            ack(response_action="errors", errors={"until": "Pick a date after today."})
            return
        ack()
        update_leader(settings, team_of(body), body["user"]["id"], paused_until=until)
        publish_home(services, client, team_of(body), body["user"]["id"])

    def check_edit(ack, view):
        text = (
            view["state"]["values"][journal_ui.EDIT_BLOCK][journal_ui.EDIT_ACTION].get("value")
            or ""
        )
        if not text.strip():
            ack(
                response_action="errors",
                errors={journal_ui.EDIT_BLOCK: "To remove an entry, use Delete instead."},
            )
            return
        ack()

    def save_edit(body, view):
        text = view["state"]["values"][journal_ui.EDIT_BLOCK][journal_ui.EDIT_ACTION].get("value")
        metadata = json.loads(view.get("private_metadata") or "{}")
        leader_id = journal.leader_id_for(settings, team_of(body), body["user"]["id"])
        try:
            journal.edit_entry(settings, leader_id, int(metadata.get("entry")), text or "")
        except (journal.NotYours, TypeError, ValueError):
            return  # not theirs (or malformed): nothing changes
        if metadata.get("response_url"):
            blocks, fallback = journal_message(
                services, team_of(body), body["user"]["id"], note=journal_ui.EDITED_TEXT
            )
            WebhookClient(metadata["response_url"]).send(
                text=fallback, blocks=blocks, response_type="ephemeral", replace_original=True
            )

    def ack_forget(ack):
        ack()

    def confirm_forget(body, client, context):
        erase(services, client, team_of(body), body["user"]["id"], context.bot_user_id)
        publish_home(services, client, team_of(body), body["user"]["id"])

    app.view_submission(journal_ui.CALLBACK_SETTINGS)(save_settings)
    app.view_submission(journal_ui.CALLBACK_PAUSE)(save_pause)
    app.view_submission(journal_ui.CALLBACK_EDIT)(ack=check_edit, lazy=[save_edit])
    app.view_submission(journal_ui.CALLBACK_FORGET)(ack=ack_forget, lazy=[confirm_forget])
