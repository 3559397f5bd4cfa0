"""Block Kit for reading a knowledge document in a modal (the View button on a source)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.knowledge.documents import KnowledgeDoc
from bot.services.safety import escape_mrkdwn
from bot.ui.answer import split_for_sections

MAX_BLOCKS = 100
TITLE_LIMIT = 24  # Slack's limit for a modal title


def _mrkdwn(text: str) -> str:
    """Curated Markdown as Slack mrkdwn: escaped, bullets as •, **bold** as *bold*."""
    lines = []
    for line in escape_mrkdwn(text).split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("- ", "* ", "+ ")):
            line = "• " + stripped[2:]
        lines.append(line.replace("**", "*"))
    return "\n".join(lines)


def document_modal(doc: KnowledgeDoc) -> dict:
    """The whole document, readable on a phone: insight, sections, sources."""
    blocks: list = [
        HeaderBlock(text=doc.title[:150]),
        SectionBlock(text=MarkdownTextObject(text=f"_{escape_mrkdwn(doc.insight)}_")),
    ]
    if doc.lead:
        for part in split_for_sections(_mrkdwn(doc.lead)):
            blocks.append(SectionBlock(text=MarkdownTextObject(text=part)))
    for section in doc.sections:
        blocks.append(DividerBlock())
        heading = f"*{escape_mrkdwn(section.heading)}*"
        for index, part in enumerate(split_for_sections(_mrkdwn(section.text), 2900)):
            text = f"{heading}\n{part}" if index == 0 else part
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    if doc.sources:
        sources = "\n".join(f"• {escape_mrkdwn(s)}" for s in doc.sources)
        blocks.append(DividerBlock())
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"*Sources*\n{sources}"[:3000])])
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Last reviewed {doc.last_reviewed:%d %B %Y}. Examples are illustrative "
                    "composites, not real organisations."
                )
            ]
        )
    )
    view = View(
        type="modal",
        title="Guidance"[:TITLE_LIMIT],
        close="Close",
        blocks=blocks[:MAX_BLOCKS],
    )
    return view.to_dict()


def not_found_modal() -> dict:
    return View(
        type="modal",
        title="Guidance",
        close="Close",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="That document isn't in my library any more. Ask me again and I'll "
                    "find what's there now."
                )
            )
        ],
    ).to_dict()
