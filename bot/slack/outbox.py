"""The outbox: every post Tandem makes goes through here, and is delivered exactly once.

`post` takes the send budget, posts, and tries again with backoff (waiting as long as
Slack's Retry-After asks) when Slack is busy or the connection fails. Every post carries a
marker in its message metadata, so when an attempt's outcome is unknown (a reset or a
timeout after the request went out) `find_sent` looks for the message before posting again.
Nothing is marked sent before Slack accepted it; a post Slack refuses is recorded, never
dropped silently. `send_once` adds a ledger row per message key, for messages that have no
ledger of their own (invitations, reminders), so a later tick can finish what one left.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_scope
from bot.db.models import FailedSend, OutboxSend, utcnow
from bot.metrics import SENDS
from bot.services.send_budget import reserve
from bot.settings import Settings
from bot.statuses import OutboxStatus

log = logging.getLogger(__name__)

# The metadata event of a post with no marker of its own: {"key": <the message's key>}.
SEND_EVENT = "tandem_send"
# Slack's answers that mean "not now" rather than "never".
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# A ledger message whose posts keep failing is given up after this many ticks' tries.
MAX_ATTEMPTS = 3
LONGEST_WAIT = 60.0
# Connection failures after the request may have gone out: the post may or may not exist.
UNKNOWN_OUTCOME = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Delivery:
    """What became of one post: the message when Slack has it, otherwise why not."""

    channel: str = ""
    ts: str = ""
    error: str = ""
    retryable: bool = False  # Slack was busy or unreachable: a later try may succeed
    maybe_sent: bool = False  # an attempt's outcome was never learned
    fresh: bool = True  # posted by this call (not found already there)

    @property
    def sent(self) -> bool:
        return not self.error


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


def marker_of(message: dict) -> tuple[str, dict]:
    metadata = message["metadata"]
    return metadata["event_type"], dict(metadata["event_payload"])


def find_sent(client, channel: str, marker: tuple[str, dict], thread_ts: str | None = None):
    """The message carrying this marker, if Tandem already posted it: (channel, ts) or None.

    The one place that answers "was this already sent?": after a crash between posting and
    recording, or an attempt whose answer never came. A post addressed to a person is
    looked for in their DM with Tandem; a reply, in its thread."""
    if channel[:1] in ("U", "W"):
        channel = client.conversations_open(users=channel)["channel"]["id"]
    if thread_ts:
        page = client.conversations_replies(
            channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
        )
    else:
        page = client.conversations_history(channel=channel, limit=50, include_all_metadata=True)
    event_type, payload = marker
    for message in page.get("messages", []):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == event_type and metadata.get("event_payload") == payload:
            return channel, message["ts"]
    return None


def _backoff(settings: Settings, attempt: int) -> float:
    base = settings.outbox_backoff_seconds * (2**attempt)
    return min(LONGEST_WAIT, base + random.uniform(0, settings.outbox_backoff_seconds / 2))


def _retry_after(failure: SlackApiError) -> float | None:
    headers = getattr(failure.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _team_of(client) -> str:
    return getattr(client, "team_id", None) or ""


def post(
    settings: Settings,
    client,
    kind: str,
    *,
    key: str | None = None,
    maybe_sent: bool = False,
    team_id: str | None = None,
    reference: dict | None = None,
    final: bool = True,
    still_ours: Callable[[], bool] | None = None,
    channel_second: float | None = None,
    **message,
) -> Delivery:
    """Post one message through the outbox (see the module's docstring).

    The message keeps its own metadata marker if it has one; otherwise it carries
    {"key": key} (a fresh key when none is given, enough to settle one call's retries).
    `maybe_sent` says an earlier try may already have posted it. `still_ours`, checked after
    the wait for the send budget and just before each try, lets a ledger confirm (and renew)
    its claim, so a sender too slow to keep it never posts over its successor.
    `channel_second`: the second a fan-out already took for this channel (see
    send_budget.take_channel_seconds). A failure is recorded (by kind, channel and error only)
    when Slack refuses, or when retries run out and `final`."""
    if not message.get("metadata"):
        message["metadata"] = {
            "event_type": SEND_EVENT,
            "event_payload": {"key": key or f"{kind}:{uuid.uuid4().hex}"},
        }
    message.setdefault("unfurl_links", False)
    channel = str(message.get("channel", ""))
    team_id = team_id if team_id is not None else _team_of(client)
    error, transient, wait = "", False, 0.0
    for attempt in range(settings.outbox_attempts):
        if wait:
            time.sleep(wait)  # not sleep(0): that hands the GIL to another thread for nothing
        wait = _backoff(settings, attempt)
        try:
            if maybe_sent:
                found = find_sent(client, channel, marker_of(message), message.get("thread_ts"))
                if found:
                    SENDS.labels(kind=kind, outcome="ok").inc()
                    return Delivery(channel=found[0], ts=found[1], fresh=False)
            reserve(settings, team_id, channel, held_second=channel_second)
            if still_ours is not None and not still_ours():
                return Delivery(error="claim_lost")
            response = client.chat_postMessage(**message)
        except SlackApiError as failure:
            error = str(failure.response.get("error", "unknown_error"))
            transient = error in TRANSIENT_ERRORS or failure.response.status_code >= 500
            if not transient:
                break
            wait = max(wait, min(LONGEST_WAIT, _retry_after(failure) or 0.0))
        except URLError as failure:  # the request never went out: nothing was posted
            error, transient = type(failure.reason).__name__, True
        except UNKNOWN_OUTCOME as failure:  # reset or timeout after sending: look first
            error, transient, maybe_sent = type(failure).__name__, True, True
        else:
            SENDS.labels(kind=kind, outcome="ok").inc()
            return Delivery(channel=response["channel"], ts=response["ts"])
    SENDS.labels(kind=kind, outcome="failed").inc()
    if not transient or final:
        record_failed_send(settings, kind, channel, error, reference or {})
    return Delivery(error=error, retryable=transient, maybe_sent=maybe_sent)


# --- messages with no ledger of their own ----------------------------------------------


def _claim(settings: Settings, key: str, kind: str) -> tuple[str, int]:
    """Claim a message key: ("claimed", attempts), ("sent", n), or ("busy", n) when another
    sender holds it or it was given up."""
    try:
        with session_scope(settings) as session:
            session.add(OutboxSend(key=key, kind=kind, status=OutboxStatus.SENDING, attempts=1))
        return "claimed", 1
    except IntegrityError:
        pass
    stale_before = utcnow() - dt.timedelta(seconds=settings.stale_claim_seconds)
    with session_scope(settings) as session:
        claimed = session.execute(
            update(OutboxSend)
            .where(
                OutboxSend.key == key,
                or_(
                    OutboxSend.status == OutboxStatus.RETRY,
                    (OutboxSend.status == OutboxStatus.SENDING)
                    & (OutboxSend.claimed_at < stale_before),
                ),
            )
            .values(
                status=OutboxStatus.SENDING,
                attempts=OutboxSend.attempts + 1,
                claimed_at=utcnow(),
            )
        ).rowcount
        row = session.get(OutboxSend, key)
        if claimed:
            return "claimed", row.attempts
        return ("sent" if row.status == OutboxStatus.SENT else "busy"), row.attempts


def send_once(
    settings: Settings, client, kind: str, key: str, reference: dict | None = None, **message
) -> Delivery:
    """Post the message for `key` unless it was already posted; safe to call every tick.

    Slack busy or unreachable: the key is left to retry on a later call (looking in the
    conversation first). Slack refusing, or MAX_ATTEMPTS calls without success: given up
    and recorded. A sender that died mid-post leaves a claim that goes stale and is taken
    over in the same way."""
    state, attempts = _claim(settings, key, kind)
    if state == "sent":
        return Delivery(fresh=False)
    if state == "busy":
        return Delivery(error="busy", retryable=True)
    final = attempts >= MAX_ATTEMPTS
    delivery = post(
        settings,
        client,
        kind,
        key=key,
        maybe_sent=attempts > 1,
        reference=reference,
        final=final,
        **message,
    )
    if delivery.sent:
        status = OutboxStatus.SENT
    elif delivery.retryable and not final:
        status = OutboxStatus.RETRY
    else:
        status = OutboxStatus.FAILED
    with session_scope(settings) as session:
        session.execute(
            update(OutboxSend)
            .where(OutboxSend.key == key)
            .values(status=status, claimed_at=utcnow())
        )
    return delivery


# --- the listeners' sends --------------------------------------------------------------


def send_or_record(
    settings: Settings, kind: str, call: Callable[..., dict], **kwargs
) -> dict | None:
    """A listener's Web API call: posts go through the outbox; any other call (an update) is
    made once, and kept on failure. Returns Slack's answer, or None when it could not go."""
    if getattr(call, "__name__", "") == "chat_postMessage":
        delivery = post(settings, call.__self__, kind, reference=kwargs, **kwargs)
        return {"channel": delivery.channel, "ts": delivery.ts} if delivery.sent else None
    try:
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
