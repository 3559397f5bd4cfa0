"""Peer buttons: preferences, leave and resume; an introduction's answers; the follow-up and
the pause offer. Only a member of an introduction may answer it.

The two that open a modal need the trigger while it is fresh, so they run in the request;
everything else runs after the ack, so Slack never waits for it. Each button is one `handle_*`
function; `partial` puts `services` in front of the arguments Bolt passes.
"""

from __future__ import annotations

import json
from functools import partial

from bot.db.models import utcnow
from bot.knowledge.taxonomy import theme_names
from bot.listeners.context import Services, ack_at_once, team_of
from bot.peers import preferences
from bot.peers.rounds import london_today, member_of, next_round_date, record_response
from bot.slack.outbox import send_or_record
from bot.slack.personal import publish_home
from bot.statuses import SendKind
from bot.ui import peers as ui

NOT_YOURS = "That introduction belongs to other people, so I've left it alone."


def _channel(body: dict) -> str | None:
    container = body.get("container") or {}
    return container.get("channel_id") or (body.get("channel") or {}).get("id")


def _group_id(action: dict) -> int | None:
    try:
        return int(action.get("value", ""))
    except ValueError:
        return None


def _say(client, body: dict, text: str) -> None:
    """A private word to the person who clicked, where they clicked."""
    channel = _channel(body)
    if channel:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def _names(services: Services) -> dict[str, str]:
    return theme_names(services.settings.knowledge_dir / "taxonomy.yaml")


def _refresh(services: Services, body: dict, client, respond, note: str) -> None:
    """Redraw wherever they clicked: App Home, or the `/tandem peers` reply."""
    settings = services.settings
    team, user = team_of(body), body["user"]["id"]
    if (body.get("container") or {}).get("type") == "view":
        publish_home(services, client, team, user)
        return
    blocks, text = ui.command_blocks(
        preferences.get_choices(settings, team, user), _names(services), next_round_date(utcnow())
    )
    respond(
        text=f"{note}\n{text}",
        blocks=blocks,
        response_type="ephemeral",
        replace_original=True,
    )


# In the request (a modal needs a fresh trigger).


def handle_open_preferences(services: Services, ack, body: dict, client) -> None:
    ack()
    settings = services.settings
    team, user = team_of(body), body["user"]["id"]
    in_home = (body.get("container") or {}).get("type") == "view"
    metadata = json.dumps({"channel": None if in_home else _channel(body)})
    view = ui.preferences_modal(
        preferences.get_choices(settings, team, user),
        _names(services),
        preferences.current_organisation(settings, team, user),
        london_today(utcnow()),
        metadata,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_takeaway(services: Services, ack, body: dict, action: dict, client) -> None:
    ack()
    group_id = _group_id(action)
    if not (group_id and member_of(services.settings, team_of(body), body["user"]["id"], group_id)):
        _say(client, body, NOT_YOURS)
        return
    client.views_open(trigger_id=body["trigger_id"], view=ui.takeaway_modal(group_id))


# After the ack (database writes, notes to the others, which may wait on the send budget).


def handle_leave(services: Services, body: dict, client, respond) -> None:
    preferences.leave(services.settings, team_of(body), body["user"]["id"])
    _refresh(services, body, client, respond, ui.LEFT)


def handle_resume(services: Services, body: dict, client, respond) -> None:
    preferences.resume(services.settings, team_of(body), body["user"]["id"])
    _refresh(services, body, client, respond, ui.RESUMED)


def handle_arranged(services: Services, body: dict, action: dict, client) -> None:
    group_id = _group_id(action)
    found = group_id and record_response(
        services.settings, team_of(body), body["user"]["id"], group_id, "arranged"
    )
    _say(client, body, ui.ARRANGED_THANKS if found else NOT_YOURS)


def handle_not_this_time(services: Services, body: dict, action: dict, client) -> None:
    settings = services.settings
    team, user, group_id = team_of(body), body["user"]["id"], _group_id(action)
    found = group_id and member_of(settings, team, user, group_id)
    if not found:
        _say(client, body, NOT_YOURS)
        return
    if found[1].response == "declined":
        _say(client, body, ui.ALREADY_NOTED)
        return
    group = record_response(settings, team, user, group_id, "declined")
    _say(client, body, ui.DECLINE_THANKS)
    # The others hear only that this round won't happen, privately and gently.
    note = ui.decline_note(len(group.members))
    for other in group.members:
        if other.user_id != user and other.response != "declined":
            send_or_record(
                settings,
                SendKind.PEER_DECLINE_NOTE,
                client.chat_postMessage,
                channel=other.user_id,
                text=note,
            )


def handle_pause_for_now(services: Services, body: dict, respond) -> None:
    until = preferences.pause_for_now(
        services.settings, team_of(body), body["user"]["id"], london_today(utcnow())
    )
    respond(text=ui.paused_text(until), replace_original=True)


def handle_keep_me_in(services: Services, body: dict, respond) -> None:
    preferences.keep_me_in(services.settings, team_of(body), body["user"]["id"])
    respond(text=ui.KEPT_IN, replace_original=True)


def register(app, services: Services) -> None:
    app.action(ui.ACTION_OPEN)(partial(handle_open_preferences, services))
    app.action(ui.ACTION_TAKEAWAY)(partial(handle_takeaway, services))
    for action_id, work in (
        (ui.ACTION_LEAVE, handle_leave),
        (ui.ACTION_RESUME, handle_resume),
        (ui.ACTION_ARRANGED, handle_arranged),
        (ui.ACTION_DECLINE, handle_not_this_time),
        (ui.ACTION_PAUSE, handle_pause_for_now),
        (ui.ACTION_KEEP, handle_keep_me_in),
    ):
        app.action(action_id)(ack=ack_at_once, lazy=[partial(work, services)])
