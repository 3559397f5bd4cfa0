"""Answer a person in Slack: a visible sign at once, then the answer in place, never silence."""

from __future__ import annotations

import logging

from bot.guidance.ledger import conversation_key, previous_turn, remember
from bot.listeners.context import Services, Turn, strip_mentions
from bot.services.events import remember_thread
from bot.services.ratelimit import allow_request
from bot.services.safety import neutralise
from bot.slack.outbox import send_or_record
from bot.statuses import SendKind
from bot.ui import messages
from bot.ui.answer import answer_blocks, to_dicts

log = logging.getLogger(__name__)
HISTORY_LIMIT = 20
# Untrusted text may carry links: never let Slack fetch or preview them.
NO_UNFURL = {"unfurl_links": False, "unfurl_media": False}


def thread_history(turn: Turn, bot_user_id: str | None, current_ts: str | None):
    """Earlier turns of the thread, oldest first, as (role, text) pairs."""
    if not turn.reply_thread_ts:
        return []
    replies = turn.client.conversations_replies(
        channel=turn.channel_id, ts=turn.reply_thread_ts, limit=HISTORY_LIMIT
    )
    history = []
    for message in replies.get("messages", []):
        if message.get("ts") == current_ts:
            continue
        is_bot = bool(message.get("bot_id")) or message.get("user") == bot_user_id
        text = strip_mentions(message.get("text", ""))
        if text and text != messages.THINKING:
            history.append(("assistant" if is_bot else "user", text))
    return history


def answer_turn(services: Services, turn: Turn, history=None) -> None:
    settings = services.settings
    if not allow_request(settings, turn.team_id, turn.user_id):
        _post_in_thread(settings, turn, SendKind.RATE_LIMITED, text=messages.RATE_LIMITED)
        return

    placeholder = _post_in_thread(settings, turn, SendKind.THINKING, text=messages.THINKING)
    if turn.reply_thread_ts and turn.channel_id and not turn.channel_id.startswith("D"):
        remember_thread(settings, turn.team_id, turn.channel_id, turn.reply_thread_ts)

    def show_progress(text: str) -> None:
        """A model's checked points as they arrive, in the "Thinking…" message."""
        if placeholder is None:
            return
        try:
            turn.client.chat_update(
                channel=placeholder["channel"],
                ts=placeholder["ts"],
                text=neutralise(text, settings.allowed_link_domains)[:3900],
            )
        except Exception as error:  # progress is a nicety: the final answer still comes
            log.info("progress update skipped: %s", type(error).__name__)

    try:
        answer = reply_to(services, turn, history, show_progress)
        blocks, text = answer_blocks(answer, settings.allowed_link_domains)
        payload = {"text": text, "blocks": to_dicts(blocks), **NO_UNFURL}
    except Exception as error:
        log.exception("answering failed: %s", type(error).__name__)
        payload = {"text": messages.SOMETHING_WENT_WRONG, **NO_UNFURL}

    if placeholder is not None:
        updated = send_or_record(
            settings,
            SendKind.ANSWER,
            turn.client.chat_update,
            channel=placeholder["channel"],
            ts=placeholder["ts"],
            **_update_fields(payload),
        )
        if updated is not None:
            return
    _post_in_thread(settings, turn, SendKind.ANSWER, **payload)


def _post_in_thread(settings, turn: Turn, kind: SendKind, **fields):
    """Post where the leader asked (their DM, or the thread they started)."""
    return send_or_record(
        settings,
        kind,
        turn.client.chat_postMessage,
        channel=turn.channel_id,
        thread_ts=turn.reply_thread_ts,
        **{**NO_UNFURL, **fields},
    )


def reply_to(services: Services, turn: Turn, history=None, on_progress=None):
    """Tandem's reply, built on the earlier answer in this conversation, and kept for the
    next follow-up (a DM's recent answers, or the thread's)."""
    settings = services.settings
    is_dm = turn.channel_id.startswith("D")
    conversation = conversation_key(turn.channel_id, None if is_dm else turn.reply_thread_ts)
    previous = previous_turn(settings, conversation, is_dm)
    answer = services.guidance.answer(
        turn.text,
        history=history,
        previous=previous,
        commands=messages.commands_text(services.commands.help_entries()),
        on_progress=on_progress,
    )
    if answer.grounded:
        remember(settings, turn.team_id, turn.user_id, conversation, answer)
    return answer


def _update_fields(payload: dict) -> dict:
    # chat.update takes no unfurl flags; the original post already had them off by default.
    return {k: v for k, v in payload.items() if k in ("text", "blocks")}
