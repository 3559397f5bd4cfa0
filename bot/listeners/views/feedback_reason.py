"""The "Not helpful" modal: submitted with or without a reason, or skipped."""

from __future__ import annotations

import json
from functools import partial

from bot.listeners.context import Services, ack_at_once
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


def handle_thank_at_once(ack) -> None:
    """The ack swaps the form for a thank-you; the vote is written after it."""
    ack(response_action="update", view=reason_thanks_view())


# Both write, so both run after the ack.


def handle_save_reason(services: Services, view: dict) -> None:
    key, docs = _metadata(view)
    value = view["state"]["values"].get(REASON_BLOCK, {}).get(REASON_ACTION, {}).get("value")
    if key:
        record_feedback(services.settings, key, docs, helpful=False, reason=value)


def handle_closed(services: Services, view: dict) -> None:
    key, docs = _metadata(view)
    if key:
        record_feedback(services.settings, key, docs, helpful=False)


def register(app, services: Services) -> None:
    app.view_submission(CALLBACK_NOT_HELPFUL)(
        ack=handle_thank_at_once, lazy=[partial(handle_save_reason, services)]
    )
    app.view_closed(CALLBACK_NOT_HELPFUL)(ack=ack_at_once, lazy=[partial(handle_closed, services)])
