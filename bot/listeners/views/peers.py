"""The peer preferences modal and the "what I took away" modal."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial

from bot.db.models import utcnow
from bot.listeners.context import Services, ack_unless_blank, team_of
from bot.peers import preferences
from bot.peers.rounds import london_today, member_of, next_round_date
from bot.reflection.journal import add_entry
from bot.slack.outbox import send_or_record
from bot.slack.personal import publish_home
from bot.statuses import SendKind, Sharing
from bot.ui import peers as ui


def _value(values: dict, block: str):
    element = values.get(block, {}).get("v", {})
    for key in ("selected_options", "selected_users"):
        if key in element:
            chosen = element[key] or []
            return [c["value"] if isinstance(c, dict) else c for c in chosen]
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_date" in element:
        return element["selected_date"]
    return element.get("value")


def _metadata(view: dict) -> dict:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _paused_until(view: dict) -> dt.date | None:
    raw = _value(view["state"]["values"], "pause")
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


# Acks: checked in the request, so a mistake shows on the form itself; saved after it.


def handle_check_preferences(ack, view: dict) -> None:
    raw_pause = _value(view["state"]["values"], "pause")
    paused_until = _paused_until(view)
    if raw_pause and (paused_until is None or paused_until <= london_today(utcnow())):
        ack(
            response_action="errors",
            errors={"pause": "Pick a date after today, or leave this empty."},
        )
        return
    ack()


def handle_check_takeaway(ack, view: dict) -> None:
    text = (
        view["state"]["values"].get(ui.TAKEAWAY_BLOCK, {}).get(ui.TAKEAWAY_ACTION, {}).get("value")
        or ""
    )
    ack_unless_blank(ack, text, ui.TAKEAWAY_BLOCK, "Write a few words, or close this for now.")


# After the ack: the writes, App Home's redraw and the private notes.


def handle_save_preferences(services: Services, body: dict, view: dict, client) -> None:
    settings = services.settings
    values = view["state"]["values"]
    team, user = team_of(body), body["user"]["id"]
    preferences.save_choices(
        settings,
        team,
        user,
        cadence=_value(values, "cadence") or preferences.DEFAULT_CADENCE,
        prefer_other_org="yes" in (_value(values, "cross_org") or []),
        want=_value(values, "want") or [],
        offer=_value(values, "offer") or [],
        exclusions=_value(values, "exclude") or [],
        paused_until=_paused_until(view),
        organisation=(_value(values, "org") or "").strip(),
        opted_in="leave" not in (_value(values, "leave") or []),
    )
    info = client.users_info(user=user).get("user", {})
    preferences.remember_name(settings, team, user, info.get("real_name") or info.get("name") or "")
    publish_home(services, client, team, user)
    channel = _metadata(view).get("channel")
    choices = preferences.get_choices(settings, team, user)
    if channel and choices is not None:
        client.chat_postEphemeral(
            channel=channel, user=user, text=ui.saved_text(choices, next_round_date(utcnow()))
        )


def handle_save_takeaway(services: Services, body: dict, view: dict, client) -> None:
    settings = services.settings
    text = view["state"]["values"][ui.TAKEAWAY_BLOCK][ui.TAKEAWAY_ACTION].get("value") or ""
    team, user = team_of(body), body["user"]["id"]
    try:
        group_id = int(_metadata(view).get("group"))
    except (TypeError, ValueError):
        return
    found = member_of(settings, team, user, group_id)
    if found is None:
        return  # not theirs: nothing is saved
    add_entry(settings, found[1].leader_id, text, source="peer", sharing=Sharing.PRIVATE)
    preferences.keep_me_in(settings, team, user)  # they took part: no pause question
    send_or_record(
        settings,
        SendKind.PEER_TAKEAWAY_SAVED,
        client.chat_postMessage,
        channel=user,
        text=ui.TAKEAWAY_SAVED,
    )


def register(app, services: Services) -> None:
    app.view_submission(ui.CALLBACK_PREFERENCES)(
        ack=handle_check_preferences, lazy=[partial(handle_save_preferences, services)]
    )
    app.view_submission(ui.CALLBACK_TAKEAWAY)(
        ack=handle_check_takeaway, lazy=[partial(handle_save_takeaway, services)]
    )
