"""Buttons on a check-in DM and on an invitation. Only the check-in's own leader may use them.

Opening the reflection modal needs the trigger while it is fresh, so that runs in the request;
everything else (writes, redrawing the check-in, private notes) runs after the ack. Each button
is one `handle_*` function; `partial` puts `services` in front of the arguments Bolt passes.
"""

from __future__ import annotations

from functools import partial

from bot.listeners.context import Services, ack_at_once, team_of
from bot.reflection.checkins import CheckinGone, decline, owned_checkin, snooze
from bot.reflection.journal import NotYours
from bot.reflection.prompts import question_by_id
from bot.slack.personal import join_checkins
from bot.slack.reflection_reply import redraw_checkin
from bot.statuses import CheckInStatus
from bot.ui import checkins as ui

NOT_YOURS = "That check-in belongs to someone else, so I've left it alone."
GONE = "gone"


def _checkin(services: Services, body: dict, action: dict):
    """(checkin, leader); "gone" once its leader erased their data; None if not theirs."""
    try:
        return owned_checkin(
            services.settings, int(action.get("value", "0")), team_of(body), body["user"]["id"]
        )
    except CheckinGone:
        return GONE
    except (NotYours, ValueError):
        return None


def _explain(client, body: dict, found) -> None:
    """Why a check-in's button did nothing: erased data is said plainly, on the check-in."""
    if found != GONE:
        _say(client, body, NOT_YOURS)
        return
    container = body.get("container") or {}
    message = body.get("message") or {}
    client.chat_update(
        channel=container.get("channel_id"),
        ts=container.get("message_ts"),
        text=ui.ERASED_NOTE,
        blocks=ui.erased_checkin_blocks(message.get("blocks") or []),
    )


def _say(client, body: dict, text: str) -> None:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def _replace_invitation(client, body: dict, text: str) -> None:
    """The invitation becomes the answer to it, so its buttons are not offered twice."""
    container = body.get("container") or {}
    client.chat_update(
        channel=container["channel_id"],
        ts=container["message_ts"],
        text=text,
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    )


# In the request (the modal needs a fresh trigger).


def handle_open_reflection(services: Services, ack, body: dict, action: dict, client) -> None:
    ack()
    found = _checkin(services, body, action)
    if not isinstance(found, tuple) or found[0].status == CheckInStatus.ANSWERED:
        return  # explained after the ack, by handle_reflect_unopened
    checkin, _leader = found
    question = question_by_id(services.settings.prompts_dir, checkin.question_id)
    client.views_open(
        trigger_id=body["trigger_id"], view=ui.reflection_modal(checkin.id, question.text)
    )


# After the ack.


def handle_reflect_unopened(services: Services, body: dict, action: dict, client) -> None:
    """Why Reflect opened no modal: erased, not theirs, or answered already."""
    found = _checkin(services, body, action)
    if not isinstance(found, tuple):
        _explain(client, body, found)
    elif found[0].status == CheckInStatus.ANSWERED:
        _say(client, body, ui.ALREADY_ANSWERED)
        redraw_checkin(services, client, *found)


def handle_not_this_time(services: Services, body: dict, action: dict, client) -> None:
    found = _checkin(services, body, action)
    if not isinstance(found, tuple):
        _explain(client, body, found)
        return
    decline(services.settings, found[0].id)
    checkin, leader = _checkin(services, body, action)  # as it now stands
    if checkin.status == CheckInStatus.DECLINED:
        redraw_checkin(services, client, checkin, leader, note=ui.DECLINED_NOTE)
    elif checkin.status == CheckInStatus.ANSWERED:
        redraw_checkin(services, client, checkin, leader)


def _snooze(services: Services, body: dict, action: dict, client, how: str, words: str) -> None:
    found = _checkin(services, body, action)
    if not isinstance(found, tuple):
        _explain(client, body, found)
        return
    checkin, leader = found
    if checkin.status == CheckInStatus.ANSWERED:
        redraw_checkin(services, client, checkin, leader)
        return
    snooze(services.settings, checkin.id, leader, how)
    note = f"Of course. I'll ask again {words}."
    redraw_checkin(services, client, checkin, leader, state="snoozed", note=note)


def handle_snooze_hour(services: Services, body: dict, action: dict, client) -> None:
    _snooze(services, body, action, client, "hour", "in about an hour")


def handle_snooze_tomorrow(services: Services, body: dict, action: dict, client) -> None:
    _snooze(services, body, action, client, "tomorrow", "tomorrow at your usual time")


def handle_invitation_join(services: Services, body: dict, client) -> None:
    leader = join_checkins(services, client, team_of(body), body["user"]["id"])
    _replace_invitation(client, body, ui.joined_text(leader))


def handle_invitation_not_now(body: dict, client) -> None:
    _replace_invitation(client, body, ui.INVITATION_DECLINED)


def register(app, services: Services) -> None:
    app.action(ui.ACTION_REFLECT)(
        ack=partial(handle_open_reflection, services),
        lazy=[partial(handle_reflect_unopened, services)],
    )
    for action_id, work in (
        (ui.ACTION_DECLINE, handle_not_this_time),
        (ui.ACTION_SNOOZE_HOUR, handle_snooze_hour),
        (ui.ACTION_SNOOZE_TOMORROW, handle_snooze_tomorrow),
        (ui.ACTION_JOIN, handle_invitation_join),
    ):
        app.action(action_id)(ack=ack_at_once, lazy=[partial(work, services)])
    app.action(ui.ACTION_NOT_NOW)(ack=ack_at_once, lazy=[handle_invitation_not_now])
