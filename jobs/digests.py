"""Posting team channel digests: every due digest once, however often the tick runs.

Claim, then post: a DigestRun row (unique per channel config and period) is inserted
before anything is sent, so a replayed tick, a restart or a second scheduler finds the
claim and posts nothing. A digest that cannot be posted is marked failed and recorded,
never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk.errors import SlackApiError

from bot.digests import service
from bot.digests.compose import Digest
from bot.digests.config import DigestSettings, all_configs
from bot.schedule import LATE_WINDOW
from bot.settings import Settings
from bot.slack import outbox
from bot.slack.client import TeamClients
from bot.slack.outbox import Delivery, record_failed_send
from bot.statuses import DigestRunStatus, SendKind
from bot.ui.digests import METADATA_EVENT, detail_blocks, headline_blocks

log = logging.getLogger(__name__)


def channel_members(client, channel_id: str) -> list[str]:
    """Everyone in the channel (every page)."""
    members: list[str] = []
    cursor = None
    while True:
        page = client.conversations_members(channel=channel_id, limit=200, cursor=cursor)
        members.extend(page.get("members", []))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members


def post(settings: Settings, client, digest: Digest, run_id: int, retrying: bool) -> Delivery:
    """The brief post, then the detail in its thread, both through the outbox. Retrying a
    run whose earlier post's outcome is unknown, the outbox looks for it first."""
    reference = {"run_id": run_id, "period": digest.period}
    blocks, text = headline_blocks(digest)
    headline = outbox.post(
        settings,
        client,
        SendKind.DIGEST,
        maybe_sent=retrying,
        reference=reference,
        channel=digest.channel,
        text=text,
        blocks=[b.to_dict() for b in blocks],
        metadata={"event_type": METADATA_EVENT, "event_payload": {"run_id": run_id}},
    )
    if headline.sent:
        blocks, text = detail_blocks(digest)
        outbox.post(
            settings,
            client,
            SendKind.DIGEST_DETAIL,
            key=f"{SendKind.DIGEST_DETAIL}:{run_id}",
            maybe_sent=not headline.fresh,
            reference=reference,
            channel=headline.channel,
            thread_ts=headline.ts,
            text=text,
            blocks=[b.to_dict() for b in blocks],
        )
    return headline


POSTED, ALREADY, FAILED, UNSENT = "posted", "already claimed", "failed", "unsent"


def deliver(
    settings: Settings, client, config: DigestSettings, period: service.Period
) -> tuple[Digest | None, str]:
    """Claim the period, compose and post. Returns the digest (when this call posted it)
    and the outcome: POSTED, ALREADY (another run has the period), FAILED (Slack refused;
    recorded) or UNSENT (Slack busy or unreachable: the next tick posts it)."""
    retrying = service.run_status(settings, config.id, period.key) == DigestRunStatus.UNSENT
    run_id = service.claim_run(settings, config.id, period.key)
    if run_id is None:
        return None, ALREADY
    try:
        digest = service.fixed_digest(settings, run_id)  # a preview fixed it: post exactly that
        if digest is None:
            period = service.continuing(settings, config, period)
            members = channel_members(client, config.channel_id)
            digest = service.build_digest(settings, config, period, members)
            service.record_release(settings, run_id, digest, period.end)
    except SlackApiError as failure:
        error = str(failure.response.get("error", "unknown_error"))
        delivery = Delivery(error=error, retryable=error in outbox.TRANSIENT_ERRORS)
    except outbox.UNKNOWN_OUTCOME as failure:  # reading members twice is harmless
        delivery = Delivery(error=type(failure).__name__, retryable=True)
    except Exception as failure:  # a bug: never silent
        delivery = Delivery(error=type(failure).__name__)
    else:
        delivery = post(settings, client, digest, run_id, retrying)
        if delivery.sent:
            service.mark_posted(settings, run_id, delivery.ts)
            return digest, POSTED
        if not delivery.retryable:
            service.mark_failed(settings, run_id)  # the outbox has recorded it
            return None, FAILED
    if delivery.retryable:
        service.mark_unsent(settings, run_id)
        return None, UNSENT
    service.mark_failed(settings, run_id)
    reference = {"run_id": run_id, "period": period.key}
    record_failed_send(settings, SendKind.DIGEST, config.channel_id, delivery.error, reference)
    return None, FAILED


def run_due_digests(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """Post every digest due at `now` (naive UTC) that has not been claimed; returns how many."""
    posted = 0
    for config in all_configs(settings):
        try:
            period = service.period_due_at(config, now)
        except ValueError:
            continue  # an unusable stored schedule: nothing is due
        if period is None or now - period.end >= LATE_WINDOW:
            continue
        if service.already_run(settings, config.id, period.key):
            continue
        client = clients.for_team(config.team_id)
        if client is None:
            continue
        _digest, outcome = deliver(settings, client, config, period)
        posted += int(outcome == POSTED)
    return posted


def show_release(
    settings: Settings, client, config: DigestSettings, period: service.Period, now: dt.datetime
) -> Digest | None:
    """The period's digest as released, releasing it now if it never was (for a preview or
    `tandem digest run --dry-run`). Slack is asked for the channel's members only when the
    digest has to be composed."""
    return service.release(
        settings, config, period, lambda: channel_members(client, config.channel_id), now
    )
