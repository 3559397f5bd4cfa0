"""Per-request dependencies handed from a listener to the code that answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.guidance.service import GuidanceService
from bot.settings import Settings

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


@dataclass
class Services:
    """What listeners need from the domain layer; built once per app."""

    settings: Settings
    guidance: GuidanceService


@dataclass
class Turn:
    """One person's message to Tandem, and where the reply belongs."""

    client: WebClient
    team_id: str
    user_id: str
    channel_id: str
    text: str
    reply_thread_ts: str | None = None


def team_of(body: dict) -> str:
    """The workspace of an interactivity payload (actions, view submissions)."""
    return (body.get("team") or {}).get("id") or body["user"].get("team_id", "")


def strip_mentions(text: str) -> str:
    return _MENTION.sub("", text or "").strip()
