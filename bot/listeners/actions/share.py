""" "Share in channel": post exactly the answer the person saw, then tidy the private copy."""

from __future__ import annotations

from functools import partial

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.guidance.ledger import kept_answer
from bot.listeners.context import Services, ack_at_once, team_of
from bot.services.safety import escape_mrkdwn
from bot.ui.answer import ACTION_SHARE, answer_blocks, to_dicts

GONE = (
    "That answer is no longer kept (answers are kept for a day), so I can't share it. "
    "Ask again with `/tandem ask` and you can share the new one."
)


def handle_share(services: Services, body: dict, action: dict, respond) -> None:
    """After the ack: post the kept answer in the channel, then delete the private copy."""
    settings = services.settings
    user = body["user"]["id"]
    kept = kept_answer(settings, str(action.get("value") or ""), team_of(body), user)
    if kept is None:
        respond(text=GONE, response_type="ephemeral", replace_original=False)
        return
    blocks, text = answer_blocks(kept.answer, settings.allowed_link_domains, with_feedback=False)
    intro = f"<@{user}> shared an answer to: _{escape_mrkdwn(kept.question)}_"
    header = ContextBlock(elements=[MarkdownTextObject(text=intro[:3000])])
    respond(
        text=f"{intro}\n{text}"[:3900],
        blocks=to_dicts([header, *blocks]),
        response_type="in_channel",
        replace_original=False,
    )
    respond(delete_original=True)


def register(app, services: Services) -> None:
    app.action(ACTION_SHARE)(ack=ack_at_once, lazy=[partial(handle_share, services)])
