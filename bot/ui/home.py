"""App Home: a welcome, what Tandem can do, and what it holds about you."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View


def home_view(first_visit: bool) -> View:
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
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "*Ask for guidance*\nSend me a message here, mention me in a channel, or use "
                    "`/tandem ask`. I answer from a curated library on collaboration, and I'll say "
                    "so when I don't have grounded guidance."
                )
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Reflective check-ins*\nA short question on your own schedule, kept in a private journal. _Coming soon._"
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Peer connections*\nAn occasional introduction to a peer thinking about similar things, if you'd like one. _Coming soon._"
            )
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "*What Tandem holds about you*\nRight now, nothing personal: your questions are "
                    "answered and not stored. If you rate an answer, only the rating is kept, "
                    "counted per guidance document, never against your name."
                )
            )
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text="Private by default. No scores, no league tables.")]
        ),
    ]
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view
