"""After a reflection is saved: a brief thanks, the follow-up, and (if wanted) one guidance."""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk.errors import SlackApiError

from bot.db.models import CheckIn, Leader
from bot.listeners.context import Services
from bot.reflection.leaders import schedule_of
from bot.reflection.prompts import question_by_id
from bot.slack.outbox import send_or_record
from bot.statuses import SendKind
from bot.ui.answer import to_dicts
from bot.ui.checkins import (
    ANSWERED_NOTE,
    REMINDER_ACTIONS,
    checkin_message,
    greeting,
    thanks_blocks,
)

log = logging.getLogger(__name__)


def suggested_guidance(services: Services, text: str) -> dict | None:
    """The single most relevant document for what they wrote, if it is grounded."""
    try:
        outcome = services.guidance.retriever.search(
            text[: services.settings.max_question_chars], k=1
        )
    except Exception as error:
        log.warning("guidance lookup failed: %s", type(error).__name__)
        return None
    # A reflection is not a question, so the scope gate does not apply: only closeness does.
    if not outcome.results or outcome.best_similarity < services.settings.retrieval_min_similarity:
        return None
    best = outcome.results[0]
    return {"doc_id": best.doc_id, "title": best.title, "summary": best.summary}


def redraw_checkin(
    services: Services,
    client,
    checkin: CheckIn,
    leader: Leader,
    *,
    state: str = "closed",
    note: str | None = ANSWERED_NOTE,
) -> None:
    """Show the check-in DM as it now stands, so its buttons never offer what is done."""
    question = question_by_id(services.settings.prompts_dir, checkin.question_id)
    if question is None or not (checkin.channel_id and checkin.message_ts):
        return
    due = checkin.due_at.replace(tzinfo=dt.UTC).astimezone(schedule_of(leader).zone)
    blocks, text = checkin_message(
        checkin.id, question.text, greeting(leader.display_name, due), state=state, note=note
    )
    try:
        client.chat_update(
            channel=checkin.channel_id, ts=checkin.message_ts, text=text, blocks=to_dicts(blocks)
        )
        if state == "closed" and checkin.reminder_sent_at is not None:
            _settle_nudges(client, checkin)
    except SlackApiError as error:  # e.g. the message was deleted: nothing left to redraw
        log.warning("could not redraw a check-in: %s", error.response.get("error"))


def _settle_nudges(client, checkin: CheckIn) -> None:
    """A nudge in the thread loses its Reflect button once the check-in is settled."""
    replies = client.conversations_replies(
        channel=checkin.channel_id, ts=checkin.message_ts, limit=50
    )
    for message in replies.get("messages", []):
        blocks = message.get("blocks") or []
        if message.get("bot_id") and any(b.get("block_id") == REMINDER_ACTIONS for b in blocks):
            client.chat_update(
                channel=checkin.channel_id,
                ts=message["ts"],
                text=message.get("text", ""),
                blocks=[b for b in blocks if b.get("type") == "section"],
            )


def thank(services: Services, client, checkin: CheckIn, leader: Leader, text: str) -> None:
    question = question_by_id(services.settings.prompts_dir, checkin.question_id)
    guidance = suggested_guidance(services, text) if leader.guidance_after_answer else None
    blocks, fallback = thanks_blocks(question.follow_up if question else None, guidance)
    send_or_record(
        services.settings,
        SendKind.THANKS,
        client.chat_postMessage,
        channel=checkin.channel_id,
        thread_ts=checkin.message_ts,
        text=fallback,
        blocks=to_dicts(blocks),
        unfurl_links=False,
    )
    redraw_checkin(services, client, checkin, leader)
