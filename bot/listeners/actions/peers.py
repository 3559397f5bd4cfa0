"""Peer buttons: preferences, leave and resume; an introduction's answers; the follow-up and
the pause offer. Only a member of an introduction may answer it."""

from __future__ import annotations

import json

from bot.db.models import utcnow
from bot.knowledge.taxonomy import theme_names
from bot.listeners.context import Services, team_of
from bot.listeners.personal import publish_home
from bot.peers import preferences
from bot.peers.rounds import london_today, member_of, next_round_date, record_response
from bot.services.delivery import send_or_record
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


def register(app, services: Services) -> None:
    settings = services.settings

    def names() -> dict[str, str]:
        return theme_names(settings.knowledge_dir / "taxonomy.yaml")

    def refresh(body: dict, client, respond, note: str) -> None:
        """Redraw wherever they clicked: App Home, or the `/tandem peers` reply."""
        team, user = team_of(body), body["user"]["id"]
        if (body.get("container") or {}).get("type") == "view":
            publish_home(services, client, team, user)
            return
        blocks, text = ui.command_blocks(
            preferences.get_choices(settings, team, user), names(), next_round_date(utcnow())
        )
        respond(
            text=f"{note}\n{text}",
            blocks=blocks,
            response_type="ephemeral",
            replace_original=True,
        )

    def open_preferences(ack, body: dict, client) -> None:
        ack()
        team, user = team_of(body), body["user"]["id"]
        in_home = (body.get("container") or {}).get("type") == "view"
        metadata = json.dumps({"channel": None if in_home else _channel(body)})
        view = ui.preferences_modal(
            preferences.get_choices(settings, team, user),
            names(),
            preferences.current_organisation(settings, team, user),
            london_today(utcnow()),
            metadata,
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def leave(body: dict, client, respond) -> None:
        preferences.leave(settings, team_of(body), body["user"]["id"])
        refresh(body, client, respond, ui.LEFT)

    def resume(body: dict, client, respond) -> None:
        preferences.resume(settings, team_of(body), body["user"]["id"])
        refresh(body, client, respond, ui.RESUMED)

    def arranged(body: dict, action: dict, client) -> None:
        group_id = _group_id(action)
        found = group_id and record_response(
            settings, team_of(body), body["user"]["id"], group_id, "arranged"
        )
        _say(client, body, ui.ARRANGED_THANKS if found else NOT_YOURS)

    def not_this_time(body: dict, action: dict, client) -> None:
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

    def takeaway(ack, body: dict, action: dict, client) -> None:
        ack()
        group_id = _group_id(action)
        if not (group_id and member_of(settings, team_of(body), body["user"]["id"], group_id)):
            _say(client, body, NOT_YOURS)
            return
        client.views_open(trigger_id=body["trigger_id"], view=ui.takeaway_modal(group_id))

    def pause_now(body: dict, respond) -> None:
        until = preferences.pause_for_now(
            settings, team_of(body), body["user"]["id"], london_today(utcnow())
        )
        respond(text=ui.paused_text(until), replace_original=True)

    def keep_in(body: dict, respond) -> None:
        preferences.keep_me_in(settings, team_of(body), body["user"]["id"])
        respond(text=ui.KEPT_IN, replace_original=True)

    def ack_at_once(ack) -> None:
        ack()

    # Opening a modal needs the trigger while it is fresh, so those two run in the request.
    # Everything else (database writes, notes to the others, which may wait on the send
    # budget) runs after the ack, so Slack never waits for it.
    app.action(ui.ACTION_OPEN)(open_preferences)
    app.action(ui.ACTION_TAKEAWAY)(takeaway)
    for action_id, work in (
        (ui.ACTION_LEAVE, leave),
        (ui.ACTION_RESUME, resume),
        (ui.ACTION_ARRANGED, arranged),
        (ui.ACTION_DECLINE, not_this_time),
        (ui.ACTION_PAUSE, pause_now),
        (ui.ACTION_KEEP, keep_in),
    ):
        app.action(action_id)(ack=ack_at_once, lazy=[work])
