"""At-least-once delivery made exactly-once: event claims and Tandem's threads, in the database."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_scope
from bot.db.models import ProcessedEvent, TandemThread, utcnow
from bot.settings import Settings

# Slack retries for about 5 minutes; keep claims far longer than that.
KEEP_CLAIMS = dt.timedelta(hours=6)


def event_keys(body: dict) -> list[str]:
    """Keys that identify one delivery: the event id, and for messages the message itself.

    Slack can deliver the same message twice with different event ids; channel + ts +
    event type names it uniquely whatever the envelope says.
    """
    event = body.get("event") or {}
    keys = []
    if body.get("event_id"):
        keys.append(f"event:{body['event_id']}")
    if event.get("type") in ("message", "app_mention") and event.get("ts"):
        team = body.get("team_id", "")
        keys.append(f"msg:{event['type']}:{team}:{event.get('channel', '')}:{event['ts']}")
    return keys


def claim_event(settings: Settings, keys: list[str]) -> bool:
    """True the first time any of these keys is seen; False for a retry or duplicate."""
    if not keys:
        return True
    try:
        with session_scope(settings) as session:
            found = session.scalars(
                select(ProcessedEvent.event_key).where(ProcessedEvent.event_key.in_(keys))
            ).first()
            if found:
                return False
            session.add_all(ProcessedEvent(event_key=key) for key in keys)
    except IntegrityError:
        return False  # another replica or thread claimed it first
    if random.random() < 0.01:
        prune_claims(settings)
    return True


def prune_claims(settings: Settings, now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - KEEP_CLAIMS
    with session_scope(settings) as session:
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
        return result.rowcount or 0


def remember_thread(settings: Settings, team_id: str, channel_id: str, thread_ts: str) -> None:
    try:
        with session_scope(settings) as session:
            if session.get(TandemThread, (team_id, channel_id, thread_ts)) is None:
                session.add(
                    TandemThread(team_id=team_id, channel_id=channel_id, thread_ts=thread_ts)
                )
    except IntegrityError:
        pass  # remembered concurrently


def is_tandem_thread(settings: Settings, team_id: str, channel_id: str, thread_ts: str) -> bool:
    with session_scope(settings) as session:
        return session.get(TandemThread, (team_id, channel_id, thread_ts)) is not None
