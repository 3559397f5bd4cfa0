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


def commands_text(entries: list[tuple[str, str]]) -> str:
    """The slash commands, for the help reply in a DM or a thread."""
    return "*Commands*\n" + "\n".join(f"`{usage}`  {about}" for usage, about in entries)


def help_blocks(help_text: str, intro: str | None = None) -> tuple[list[Block], str]:
    """Help: the themes, the commands that exist (the caller passes the registry's list) and
    example questions, as `GuidanceService.help_text` words them."""
    text = (intro + "\n\n" if intro else "") + help_text
    blocks: list[Block] = []
    if intro:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=intro)))
    for part in help_text.split("\n\n"):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=part[:3000])))
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
