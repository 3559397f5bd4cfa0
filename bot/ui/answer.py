"""Block Kit for answers: text, numbered sources, feedback buttons. Pure functions."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.guidance.service import Answer
from bot.services.safety import escape_mrkdwn, neutralise

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
FALLBACK_LIMIT = 3900  # Slack truncates long `text`; keep the fallback readable
SOURCES_PREFIX = "Sources: "

ACTION_HELPFUL = "feedback_helpful"
ACTION_NOT_HELPFUL = "feedback_not_helpful"
ACTION_SHARE = "share_answer"
ACTION_VIEW_SOURCE = "view_source"  # one per source: view_source:1, view_source:2, …


def split_for_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split on paragraphs, then lines, then words, so no section exceeds Slack's limit."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        pieces = [paragraph]
        if len(paragraph) > limit:
            pieces = _hard_split(paragraph, limit)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts or [""]


def _hard_split(text: str, limit: int) -> list[str]:
    chunks, current = [], ""
    for word in text.replace("\n", " \n").split(" "):
        while len(word) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > limit:
            chunks.append(current)
            current = word
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def answer_text(answer: Answer, allowed_domains: tuple[str, ...]) -> str:
    """The answer as safe mrkdwn: model output neutralised, curated text escaped."""
    body = (
        neutralise(answer.answer, allowed_domains)
        if answer.mode == "llm"
        else escape_mrkdwn(answer.answer)
    )
    if answer.note:
        body += f"\n\n_{escape_mrkdwn(answer.note)}_"
    return body


def sources_line(answer: Answer) -> str:
    titles = [f"[{i}] {escape_mrkdwn(c.title)}" for i, c in enumerate(answer.citations, start=1)]
    return SOURCES_PREFIX + "  ·  ".join(titles)


def source_blocks(answer: Answer) -> list[Block]:
    """One line per source, each with a View button that opens the document."""
    blocks: list[Block] = []
    for number, citation in enumerate(answer.citations, start=1):
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"[{number}] {escape_mrkdwn(citation.title)}"[:3000]),
                accessory=ButtonElement(
                    text="View",
                    action_id=f"{ACTION_VIEW_SOURCE}:{number}",
                    value=citation.doc_id[:2000],
                    accessibility_label=f"View {citation.title}"[:75],
                ),
            )
        )
    return blocks


def answer_blocks(
    answer: Answer,
    allowed_domains: tuple[str, ...],
    share_id: str | None = None,
    *,
    with_feedback: bool = True,
) -> tuple[list[Block], str]:
    """Blocks and the plain-text fallback for one answer. `share_id` is the id under which
    the answer was kept (bot/guidance/ledger.py): "Share in channel" posts exactly that."""
    body = answer_text(answer, allowed_domains)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=part)) for part in split_for_sections(body)
    ]
    if answer.citations:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Sources")]))
        blocks.extend(source_blocks(answer))
    buttons = []
    if answer.grounded and with_feedback:
        doc_ids = json.dumps([c.doc_id for c in answer.citations])[:2000]
        buttons += [
            ButtonElement(text="Helpful", action_id=ACTION_HELPFUL, value=doc_ids),
            ButtonElement(text="Not helpful", action_id=ACTION_NOT_HELPFUL, value=doc_ids),
        ]
    if share_id is not None and answer.grounded:
        buttons.append(
            ButtonElement(
                text="Share in channel", action_id=ACTION_SHARE, value=share_id, style="primary"
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="answer_actions", elements=buttons))
    blocks = blocks[:MAX_BLOCKS]
    for block in blocks:
        block.validate_json()  # raises before sending if Slack would refuse it
    return blocks, fallback_text(answer, body)


def fallback_text(answer: Answer, body: str) -> str:
    text = body
    if answer.citations:
        text += "\n" + sources_line(answer)
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"


def to_dicts(blocks: list[Block]) -> list[dict]:
    return [block.to_dict() for block in blocks]
