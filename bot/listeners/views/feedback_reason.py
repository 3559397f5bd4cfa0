"""The "Not helpful" modal: submitted with or without a reason, or skipped."""

from __future__ import annotations

import json

from bot.listeners.context import Services
from bot.services.feedback import record_feedback
from bot.ui.feedback import (
    CALLBACK_NOT_HELPFUL,
    REASON_ACTION,
    REASON_BLOCK,
    reason_thanks_view,
)


def _metadata(view: dict) -> tuple[str, list[str]]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return "", []
    return str(data.get("key", "")), [d for d in data.get("docs", []) if isinstance(d, str)]


def register(app, services: Services) -> None:
    settings = services.settings

    def ack_at_once(ack) -> None:
        ack()

    def ack_with_thanks(ack) -> None:
        ack(response_action="update", view=reason_thanks_view())

    def on_submit(view: dict) -> None:
        key, docs = _metadata(view)
        value = view["state"]["values"].get(REASON_BLOCK, {}).get(REASON_ACTION, {}).get("value")
        if key:
            record_feedback(settings, key, docs, helpful=False, reason=value)

    def on_closed(view: dict) -> None:
        key, docs = _metadata(view)
        if key:
            record_feedback(settings, key, docs, helpful=False)

    # Both write, so both run after the ack.
    app.view_submission(CALLBACK_NOT_HELPFUL)(ack=ack_with_thanks, lazy=[on_submit])
    app.view_closed(CALLBACK_NOT_HELPFUL)(ack=ack_at_once, lazy=[on_closed])
