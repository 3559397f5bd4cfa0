""" "Share in channel": post a slash-command answer for everyone, then tidy the private copy."""

from __future__ import annotations

import json

from bot.listeners.context import Services
from bot.services.safety import escape_mrkdwn
from bot.ui.answer import ACTION_SHARE, answer_blocks, to_dicts


def register(app, services: Services) -> None:
    settings = services.settings

    def ack_share(ack):
        ack()

    def share(body: dict, action: dict, respond) -> None:
        try:
            question = json.loads(action.get("value") or "{}").get("q", "")
        except json.JSONDecodeError:
            question = ""
        answer = services.guidance.answer(question)
        blocks, text = answer_blocks(answer, settings.allowed_link_domains)
        intro = f"<@{body['user']['id']}> shared an answer to: _{escape_mrkdwn(answer.query)}_"
        from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

        header = ContextBlock(elements=[MarkdownTextObject(text=intro[:3000])])
        respond(
            text=f"{intro}\n{text}",
            blocks=to_dicts([header, *blocks]),
            response_type="in_channel",
            replace_original=False,
        )
        respond(delete_original=True)

    app.action(ACTION_SHARE)(ack=ack_share, lazy=[share])
