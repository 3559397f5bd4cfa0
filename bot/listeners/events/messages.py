"""`message` events: DMs to Tandem, and follow-ups in threads Tandem is part of."""

from __future__ import annotations

from functools import partial

from bot.listeners.context import Services, Turn, ack_at_once, strip_mentions
from bot.reflection.checkins import checkin_for_thread
from bot.reflection.journal import append_to_checkin
from bot.services.events import is_tandem_thread
from bot.slack.answering import answer_turn, thread_history
from bot.slack.outbox import send_or_record
from bot.slack.reflection_reply import thank
from bot.statuses import SendKind
from bot.ui.checkins import ERASED_NOTE, ERASED_REPLY, METADATA_EVENT, erased_checkin_blocks

# Subtypes that are people talking; everything else (edits, joins, bots) is ignored.
PERSON_SUBTYPES = {None, "thread_broadcast", "file_share"}


def handle_message(services: Services, event: dict, body: dict, client, context) -> None:
    """After the ack: a reply under a check-in is kept, a question answered, the rest ignored."""
    if event.get("bot_id") or event.get("subtype") not in PERSON_SUBTYPES:
        return
    user = event.get("user")
    if not user or user == context.bot_user_id:
        return
    channel_type = event.get("channel_type")
    thread_ts = event.get("thread_ts")
    text = event.get("text", "")
    team_id = body.get("team_id") or context.team_id or ""
    if channel_type == "im":
        if thread_ts and _capture_reflection(services, client, event, user, thread_ts):
            return
        if thread_ts and _erased_checkin_thread(services, client, event, thread_ts):
            return
        turn = Turn(client, team_id, user, event["channel"], text, thread_ts)
        history = thread_history(turn, context.bot_user_id, event.get("ts")) if thread_ts else None
        answer_turn(services, turn, history)
        return
    # In channels: only follow-ups in Tandem's own threads, and never a mention
    # (app_mention answers those, so the same message is not answered twice).
    if not thread_ts or f"<@{context.bot_user_id}>" in text:
        return
    if not is_tandem_thread(services.settings, team_id, event["channel"], thread_ts):
        return
    turn = Turn(client, team_id, user, event["channel"], strip_mentions(text), thread_ts)
    answer_turn(services, turn, thread_history(turn, context.bot_user_id, event.get("ts")))


def _capture_reflection(services: Services, client, event: dict, user: str, thread_ts: str) -> bool:
    """A reply in a check-in's thread goes to the journal, at any length."""
    found = checkin_for_thread(services.settings, event["channel"], thread_ts, user)
    if found is None:
        return False
    checkin, leader = found
    try:
        _entry, created = append_to_checkin(
            services.settings, leader.id, checkin, event.get("text", "")
        )
    except ValueError:
        return True  # an empty reply: nothing to keep
    if created:
        thank(services, client, checkin, leader, event.get("text", ""))
    return True


def _erased_checkin_thread(services: Services, client, event: dict, thread_ts: str) -> bool:
    """A reply under a check-in Tandem no longer holds (its leader erased their data) is not
    a question: say plainly that it was not kept, rather than answer it as guidance."""
    replies = client.conversations_replies(
        channel=event["channel"], ts=thread_ts, limit=1, include_all_metadata=True
    )
    root = next(iter(replies.get("messages") or []), {})
    if not root.get("bot_id") or (root.get("metadata") or {}).get("event_type") != METADATA_EVENT:
        return False
    send_or_record(
        services.settings,
        SendKind.ERASED_NOTE,
        client.chat_postMessage,
        channel=event["channel"],
        thread_ts=thread_ts,
        text=ERASED_REPLY,
    )
    if any(block.get("type") == "actions" for block in root.get("blocks") or []):
        client.chat_update(
            channel=event["channel"],
            ts=thread_ts,
            text=ERASED_NOTE,
            blocks=erased_checkin_blocks(root.get("blocks") or []),
        )
    return True


def register(app, services: Services) -> None:
    app.event("message")(ack=ack_at_once, lazy=[partial(handle_message, services)])
