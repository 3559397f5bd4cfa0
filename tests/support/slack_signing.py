"""Build signed Slack requests, as Slack itself would, for tests that bypass the workspace."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

import httpx


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def message_event(
    user: str,
    channel: str,
    text: str,
    ts: str,
    channel_type: str = "im",
    event_id: str | None = None,
    team_id: str = "T0TANDEM",
    **extra,
) -> dict:
    event = {
        "type": "message",
        "user": user,
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        "team": team_id,
        **extra,
    }
    return {
        "token": "legacy",
        "team_id": team_id,
        "api_app_id": "A0TANDEM",
        "type": "event_callback",
        "event": event,
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(float(ts)),
        "authorizations": [{"team_id": team_id, "user_id": "UTANDEMBOT", "is_bot": True}],
    }


def post_event(
    url: str, secret: str, body: dict, headers: dict | None = None, timestamp: int | None = None
) -> httpx.Response:
    raw = json.dumps(body)
    all_headers = {
        "Content-Type": "application/json",
        **sign(secret, raw, timestamp),
        **(headers or {}),
    }
    return httpx.post(url, content=raw, headers=all_headers, timeout=10)


def post_form(url: str, secret: str, fields: dict) -> httpx.Response:
    raw = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, raw)}
    return httpx.post(url, content=raw, headers=headers, timeout=10)
