"""Buttons on a check-in DM and on an invitation. Only the check-in's own leader may use them."""

from __future__ import annotations

from bot.listeners.context import Services, team_of
from bot.listeners.personal import join_checkins
from bot.reflection.checkins import decline, owned_checkin, snooze
from bot.reflection.journal import NotYours
from bot.reflection.prompts import question_by_id
from bot.ui import checkins as ui

NOT_YOURS = "That check-in belongs to someone else, so I've left it alone."


def _checkin(services: Services, body: dict, action: dict):
    try:
        return owned_checkin(
            services.settings, int(action.get("value", "0")), team_of(body), body["user"]["id"]
        )
    except (NotYours, ValueError):
        return None


def _say(client, body: dict, text: str) -> None:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def register(app, services: Services) -> None:
    settings = services.settings

    def reflect(ack, body: dict, action: dict, client) -> None:
        ack()
        found = _checkin(services, body, action)
        if found is None:
            _say(client, body, NOT_YOURS)
            return
        checkin, _leader = found
        question = question_by_id(settings.prompts_dir, checkin.question_id)
        client.views_open(
            trigger_id=body["trigger_id"], view=ui.reflection_modal(checkin.id, question.text)
        )

    def not_this_time(ack, body: dict, action: dict, client) -> None:
        ack()
        found = _checkin(services, body, action)
        if found is None:
            _say(client, body, NOT_YOURS)
            return
        decline(settings, found[0].id)
        _say(client, body, "No problem at all. I'll be back at your usual time.")

    def snoozer(how: str, words: str):
        def handler(ack, body: dict, action: dict, client) -> None:
            ack()
            found = _checkin(services, body, action)
            if found is None:
                _say(client, body, NOT_YOURS)
                return
            snooze(settings, found[0].id, found[1], how)
            _say(client, body, f"Of course. I'll ask again {words}.")

        return handler

    def join(ack, body: dict, client) -> None:
        ack()
        leader = join_checkins(services, client, team_of(body), body["user"]["id"])
        _say(client, body, ui.joined_text(leader))

    def invitation_declined(ack, body: dict, client) -> None:
        ack()
        _say(
            client,
            body,
            "Thanks for letting me know. If you change your mind, `/tandem checkin` is always here.",
        )

    app.action(ui.ACTION_REFLECT)(reflect)
    app.action(ui.ACTION_DECLINE)(not_this_time)
    app.action(ui.ACTION_SNOOZE_HOUR)(snoozer("hour", "in about an hour"))
    app.action(ui.ACTION_SNOOZE_TOMORROW)(snoozer("tomorrow", "tomorrow at your usual time"))
    app.action(ui.ACTION_JOIN)(join)
    app.action(ui.ACTION_NOT_NOW)(invitation_declined)
