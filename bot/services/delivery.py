"""Sending that never fails silently: a send Slack still refuses after retries is recorded."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.db.engine import session_scope
from bot.db.models import FailedSend
from bot.metrics import SENDS
from bot.services.send_budget import reserve
from bot.settings import Settings

log = logging.getLogger(__name__)


def record_failed_send(
    settings: Settings, kind: str, channel_id: str, error: str, payload: dict
) -> None:
    with session_scope(settings) as session:
        session.add(
            FailedSend(
                kind=kind,
                channel_id=channel_id or "",
                error=error[:200],
                payload=json.dumps(payload),
            )
        )
    # The payload may carry guidance text, so only the kind and error are logged.
    log.error("send failed after retries: kind=%s error=%s", kind, error)


def send_or_record(
    settings: Settings, kind: str, call: Callable[..., dict], **kwargs
) -> dict | None:
    """Call a Web API method (retries are the client's); on final failure, keep the payload."""
    try:
        if getattr(call, "__name__", "") == "chat_postMessage" and kwargs.get("channel"):
            reserve(settings, getattr(call.__self__, "team_id", None) or "", str(kwargs["channel"]))
        response = call(**kwargs)
        SENDS.labels(kind=kind, outcome="ok").inc()
        return response
    except SlackApiError as failure:
        error = str(failure.response.get("error", "unknown_error"))
    except Exception as failure:  # connection lost after retries, timeouts
        error = type(failure).__name__
    SENDS.labels(kind=kind, outcome="failed").inc()
    record_failed_send(settings, kind, str(kwargs.get("channel", "")), error, kwargs)
    return None
