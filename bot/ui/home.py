"""App Home: a welcome, what Tandem can do, check-in settings and what it holds about you."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View


def home_view(
    first_visit: bool, personal_blocks: list | None = None, peer_blocks: list | None = None
) -> View:
    if first_visit:
        welcome = (
            "*Welcome to Tandem.* I'm here to help you lead collaboratively: across teams, "
            "organisations and the whole system. Nothing you tell me is shared unless you choose."
        )
    else:
        welcome = "*Good to see you again.* Here's what I can help with."
    blocks = [
        HeaderBlock(text="Tandem"),
        SectionBlock(text=MarkdownTextObject(text=welcome)),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "*Ask for guidance*\nSend me a message here, mention me in a channel, or use "
                    "`/tandem ask`. I answer from a curated library on collaboration, and I'll say "
                    "so when I don't have grounded guidance."
                )
            )
        ),
        DividerBlock(),
        *(personal_blocks or []),
        DividerBlock(),
        *(peer_blocks or []),
        ContextBlock(
            elements=[MarkdownTextObject(text="Private by default. No scores, no league tables.")]
        ),
    ]
    view = View(type="home", blocks=blocks[:100])
    view.validate_json()
    return view
