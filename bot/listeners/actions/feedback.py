"""Helpful / Not helpful on an answer. Counted per document; never shown per person."""

from __future__ import annotations

import json
from functools import partial

from bot.listeners.context import Services, ack_at_once
from bot.services.feedback import already_voted, record_feedback, vote_key
from bot.ui import messages
from bot.ui.answer import ACTION_HELPFUL, ACTION_NOT_HELPFUL
from bot.ui.feedback import reason_modal


def _doc_ids(action: dict) -> list[str]:
    try:
        value = json.loads(action.get("value") or "[]")
    except json.JSONDecodeError:
        return []
    return [v for v in value if isinstance(v, str)][:10] if isinstance(value, list) else []


def _message_ts(body: dict) -> str:
    container = body.get("container") or {}
    return container.get("message_ts") or (body.get("message") or {}).get("ts") or ""


def _tell(client, body: dict, respond, text: str) -> None:
    """A private word to the person who clicked, wherever the answer was."""
    container = body.get("container") or {}
    if container.get("is_ephemeral") or not container.get("channel_id"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postEphemeral(
            channel=container["channel_id"], user=body["user"]["id"], text=text
        )


def _vote_key(services: Services, body: dict) -> str:
    """One vote per person per answer."""
    return vote_key(
        services.settings, body["user"].get("team_id", ""), body["user"]["id"], _message_ts(body)
    )


def handle_not_helpful(services: Services, ack, body: dict, action: dict, client, respond) -> None:
    """In the request: the reason form needs a fresh trigger."""
    ack()
    key = _vote_key(services, body)
    if already_voted(services.settings, key):
        # No form for a reason that could not be kept: one vote per person per answer.
        _tell(client, body, respond, messages.FEEDBACK_ALREADY)
        return
    metadata = json.dumps({"docs": _doc_ids(action), "key": key})
    client.views_open(trigger_id=body["trigger_id"], view=reason_modal(metadata))


def handle_helpful(services: Services, body: dict, action: dict, client, respond) -> None:
    """After the ack: it is a write."""
    stored = record_feedback(
        services.settings, _vote_key(services, body), _doc_ids(action), helpful=True
    )
    _tell(client, body, respond, messages.FEEDBACK_THANKS if stored else messages.FEEDBACK_ALREADY)


def register(app, services: Services) -> None:
    app.action(ACTION_HELPFUL)(ack=ack_at_once, lazy=[partial(handle_helpful, services)])
    app.action(ACTION_NOT_HELPFUL)(partial(handle_not_helpful, services))
