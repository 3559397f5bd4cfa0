"""Short messages Tandem sends: help, thinking, errors, thanks. Warm, brief, British English."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

THINKING = "Thinking about that…"
RATE_LIMITED = (
    "You're asking faster than I can think well. Give me a minute, then ask again. "
    "Nothing you've sent has been lost."
)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side and I couldn't answer that. "
    "Please try again in a moment."
)
FEEDBACK_THANKS = "Thank you. That helps the people who look after my guidance."
FEEDBACK_ALREADY = "You've already told me about this answer. Thank you."
UNKNOWN_SUBCOMMAND = "I don't know `{name}` yet. Here's what I can do:"


def help_blocks(
    entries: list[tuple[str, str]], intro: str | None = None
) -> tuple[list[Block], str]:
    """Help for exactly the subcommands that exist (the caller passes the registry's list)."""
    lines = [f"`{usage}`  {about}" for usage, about in entries]
    text = (intro + "\n" if intro else "") + "\n".join(lines)
    blocks: list[Block] = []
    if intro:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=intro)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="You can also DM me, or mention me in a channel and I'll reply in a thread."
                )
            ]
        )
    )
    return blocks, text
