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

HELP_COMMANDS: list[tuple[str, str]] = [
    ("/tandem ask <question>", "guidance on leading collaboratively, with its sources"),
    ("/tandem checkin", "join reflective check-ins on your own schedule"),
    ("/tandem journal", "your recent reflections and the themes you return to (only you see it)"),
    ("/tandem export", "a file of everything Tandem holds about you"),
    ("/tandem forget", "erase everything Tandem holds about you"),
    ("/tandem help", "this list"),
]


def help_blocks(intro: str | None = None) -> tuple[list[Block], str]:
    lines = [f"`{usage}`  {about}" for usage, about in HELP_COMMANDS]
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
