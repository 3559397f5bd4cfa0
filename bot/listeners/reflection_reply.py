"""After a reflection is saved: a brief thanks, the follow-up, and (if wanted) one guidance."""

from __future__ import annotations

import logging

from bot.db.models import CheckIn, Leader
from bot.listeners.context import Services
from bot.reflection.prompts import question_by_id
from bot.services.delivery import send_or_record
from bot.ui.answer import to_dicts
from bot.ui.checkins import thanks_blocks

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


def thank(services: Services, client, checkin: CheckIn, leader: Leader, text: str) -> None:
    question = question_by_id(services.settings.prompts_dir, checkin.question_id)
    guidance = suggested_guidance(services, text) if leader.guidance_after_answer else None
    blocks, fallback = thanks_blocks(question.follow_up if question else None, guidance)
    send_or_record(
        services.settings,
        "thanks",
        client.chat_postMessage,
        channel=checkin.channel_id,
        thread_ts=checkin.message_ts,
        text=fallback,
        blocks=to_dicts(blocks),
        unfurl_links=False,
    )
