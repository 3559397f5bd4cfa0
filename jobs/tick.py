"""One pass of all scheduled work as of an instant: `tandem jobs tick` and the scheduler.

The stages, each guarded on its own, and the sending: invitations, check-ins and reminders go
out through the outbox, and what Slack accepted is written to the check-in ledger
(bot/reflection/ledger.py: unique per leader and period), so a replayed tick, a restart or
two schedulers at once cannot send twice. A claim whose send never got recorded (a crash) is
recovered: Tandem first looks in the DM for the message it may already have sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bot.db.engine import scrub
from bot.db.models import OutboxSend, utcnow
from bot.guidance.ledger import purge_expired
from bot.metrics import TICK_STAGE_FAILURES
from bot.reflection.journal import purge_older_than
from bot.reflection.leaders import schedule_of
from bot.reflection.ledger import (
    CLAIM_BATCH,
    Sendable,
    cancel_reminder,
    claim_sendable,
    give_up_or_retry,
    invitations_to_send,
    load_checkin,
    mark_invited,
    mark_reminder_sent,
    new_claimant,
    plan_checkins,
    record_sent,
    reminders_due,
    renew_claims,
    renew_claims_on,
)
from bot.reflection.prompts import question_by_id
from bot.schedule import next_local
from bot.services.send_budget import take_channel_seconds
from bot.settings import Settings
from bot.slack.client import TeamClients
from bot.slack.outbox import MAX_ATTEMPTS, post, send_once
from bot.statuses import CheckInStatus, SendKind
from bot.ui.checkins import (
    METADATA_EVENT,
    checkin_dm,
    greeting,
    invitation_message,
    reminder_message,
)

log = logging.getLogger(__name__)


def run_tick(
    settings: Settings, now: dt.datetime | None = None, clients: TeamClients | None = None
) -> dict:
    """Everything due at `now` (naive UTC); returns what was sent, by kind, as counts.

    Each stage is guarded on its own: one that fails (Slack or the database unreachable, a
    bug) is logged by name and error class, and the others still run. What it left undone
    is due again at the next tick."""
    now = now or utcnow()
    clients = clients or TeamClients(settings)
    counts: Counter = Counter()
    stages = [
        ("invitations", lambda: send_invitations(settings, clients)),
        ("checkins", lambda: deliver_checkins(settings, now, clients)),
        ("reminders", lambda: send_reminders(settings, now, clients)),
        (
            "purged_entries",
            lambda: purge_older_than(settings, settings.journal_retention_days, now),
        ),
        ("expired_answers", lambda: purge_expired(settings, now)),
    ]
    stages += [(name, lambda job=job: job(settings, now, clients)) for name, job in extra_jobs()]
    for name, stage in stages:
        done = _guarded(name, stage)
        if isinstance(done, dict):
            counts.update(done)  # a job that sends several kinds reports each
        else:
            counts[name] = done
    if counts["purged_entries"] or counts["expired_answers"]:
        _guarded("scrub", lambda: scrub(settings))  # deleted text must not linger in the WAL
    return dict(counts)


def _guarded(name: str, stage) -> int | dict:
    try:
        return stage() or 0
    except Exception as error:  # never the message: an error's text may quote what was sent
        TICK_STAGE_FAILURES.labels(stage=name).inc()
        log.error("tick stage failed: stage=%s error=%s", name, type(error).__name__)
        return 0


def extra_jobs():
    """Scheduled work of the other features: peer rounds and team digests."""
    from jobs.digests import run_due_digests
    from jobs.peers import peer_job_counts

    return [("peers", peer_job_counts), ("digests", run_due_digests)]


# --- invitations ---------------------------------------------------------------


def send_invitations(settings: Settings, clients: TeamClients) -> int:
    """Invite everyone imported without consent, once; marked invited only once Slack has it."""
    sent = 0
    for leader_id, team_id, user_id in invitations_to_send(settings):
        client = clients.for_team(team_id)
        if client is None:
            continue
        blocks, text = invitation_message()
        delivery = send_once(
            settings,
            client,
            SendKind.INVITATION,
            OutboxSend.key_for(SendKind.INVITATION, leader_id),
            {"leader_id": leader_id},
            channel=user_id,
            text=text,
            blocks=blocks,
        )
        if delivery.sent:
            mark_invited(settings, leader_id)
            sent += int(delivery.fresh)
    return sent


# --- check-ins -----------------------------------------------------------------


def deliver_checkins(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """The scheduler's part: plan what is due, then help deliver it."""
    plan_checkins(settings, now)
    return deliver_claimable(settings, clients, now)


def deliver_claimable(
    settings: Settings, clients: TeamClients, now: dt.datetime | None = None
) -> int:
    """Claim and send batches until nothing is left; every replica runs this.

    The next batch is claimed while the last groups of this one are being sent, so the
    senders do not stand idle during a claim (and no more than that is claimed ahead)."""
    sent = 0
    with ThreadPoolExecutor(settings.delivery_workers, thread_name_prefix="tandem-send") as pool:
        claimant = new_claimant()
        claimed = claim_sendable(settings, claimant, CLAIM_BATCH)
        while claimed:
            sending = [
                pool.submit(
                    _send_group, settings, claimed[i : i + RENEW_GROUP], now, clients, claimant
                )
                for i in range(0, len(claimed), RENEW_GROUP)
            ]
            claim_next_at = max(0, len(sending) - 2 * settings.delivery_workers)
            claimed, done = [], []
            try:
                for index, future in enumerate(sending):
                    if index == claim_next_at:
                        claimed = claim_sendable(settings, claimant, CLAIM_BATCH)
                    done.extend(future.result())
                    if len(done) >= RECORD_BATCH:
                        sent += record_sent(settings, done)
                        done = []
            finally:
                for future in sending:
                    future.cancel()  # after a failure, what has not started stays claimed
                sent += record_sent(settings, done)  # and what did go is recorded even then
    return sent


# Sends recorded together (a crash before they are recorded is what the DM lookup covers).
RECORD_BATCH = 50
RENEW_GROUP = 8


def _send_group(
    settings: Settings, group: list[Sendable], now, clients: TeamClients, claimant: str
) -> list[dict]:
    """Renew a few claims, then send them; rows taken over as stale are left to their taker.

    The renewal and the DMs' seconds in the posting budget are one write for the whole group
    (shared with other senders' groups waiting at the same moment)."""
    ours: set[int] = set()
    ids = [item.checkin_id for item in group]
    second, held = take_channel_seconds(
        settings,
        [(item.leader.team_id, item.leader.slack_user_id) for item in group],
        alongside=lambda connection: ours.update(renew_claims_on(connection, ids, claimant)),
    )
    renewed_at = time.monotonic()
    outcomes = (
        send_checkin(
            settings,
            item,
            now,
            clients,
            claimant,
            renewed_at,
            channel_second=second
            if (item.leader.team_id, item.leader.slack_user_id) in held
            else None,
        )
        for item in group
        if item.checkin_id in ours
    )
    return [outcome for outcome in outcomes if outcome is not None]


def send_checkin(
    settings: Settings,
    item: Sendable,
    now: dt.datetime | None,
    clients: TeamClients,
    claimant: str | None = None,
    renewed_at: float | None = None,
    channel_second: float | None = None,
) -> dict | None:
    """Send one check-in DM; returns what to record, or None when it could not go.

    `renewed_at` (monotonic) is when the claimant last renewed this claim, if it just did;
    `channel_second`, the second already taken for the DM in the posting budget, if any."""
    now = now or utcnow()
    leader = item.leader
    client = clients.for_team(leader.team_id)
    question = question_by_id(settings.prompts_dir, item.question_id)
    if client is None or question is None:
        return None
    schedule = schedule_of(leader)
    local_now = now.replace(tzinfo=dt.UTC).astimezone(schedule.zone)
    blocks, text = checkin_dm(
        item.checkin_id, question.text, greeting(leader.display_name, local_now)
    )

    renewed = [renewed_at]

    def still_ours() -> bool:
        """Checked just before the post: a sender slowed past the stale-claim time (a
        loaded machine) must not post what its successor has taken over. A claim renewed
        less than half the stale-claim time ago cannot have been taken over, so only a
        slower send asks the database (and renews the claim again)."""
        trusted = settings.stale_claim_seconds / 2
        if renewed[0] is not None and time.monotonic() - renewed[0] < trusted:
            return True
        if item.checkin_id not in renew_claims(settings, [item.checkin_id], claimant):
            return False
        renewed[0] = time.monotonic()
        return True

    # Posting to the user id lands in their DM with Tandem, without a conversations.open.
    # Claimed before, it may already be in the DM: the outbox looks there first.
    delivery = post(
        settings,
        client,
        SendKind.CHECKIN,
        maybe_sent=item.attempts > 1,
        team_id=leader.team_id,
        reference={"checkin_id": item.checkin_id},
        final=item.attempts >= MAX_ATTEMPTS,
        still_ours=still_ours if claimant else None,
        channel_second=channel_second,
        channel=leader.slack_user_id,
        text=text,
        blocks=blocks,
        metadata={"event_type": METADATA_EVENT, "event_payload": {"checkin_id": item.checkin_id}},
    )
    if delivery.error == "claim_lost":
        return None  # another sender took it over as stale, and sends it
    if not delivery.sent:
        # The outbox has recorded it: give up, or leave the claim to go stale for a later try.
        give_up_or_retry(
            settings, item.checkin_id, retryable=delivery.retryable, max_attempts=MAX_ATTEMPTS
        )
        return None
    reminder_at = next_local(schedule, max(now, item.due_at), days=1)
    return {
        "id": item.checkin_id,
        "channel": delivery.channel,
        "ts": delivery.ts,
        "reminder_at": reminder_at,
    }


# --- reminders -----------------------------------------------------------------


def send_reminders(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """One gentle reminder in the check-in's thread, marked sent once Slack has it."""
    sent = 0
    for checkin_id in reminders_due(settings, now):
        checkin, leader = load_checkin(settings, checkin_id)
        if (
            checkin is None
            or checkin.status != CheckInStatus.SENT
            or checkin.reminder_sent_at is not None
        ):
            continue  # answered, declined or reminded since
        client = clients.for_team(leader.team_id)
        question = question_by_id(settings.prompts_dir, checkin.question_id)
        if client is None or question is None:
            continue
        blocks, text = reminder_message(checkin_id, question.text)
        delivery = send_once(
            settings,
            client,
            SendKind.REMINDER,
            OutboxSend.key_for(SendKind.REMINDER, checkin_id),
            {"checkin_id": checkin_id},
            channel=checkin.channel_id,
            thread_ts=checkin.message_ts,
            reply_broadcast=True,
            text=text,
            blocks=blocks,
            unfurl_links=False,
        )
        if delivery.sent:
            mark_reminder_sent(settings, checkin_id)
        elif not delivery.retryable:
            cancel_reminder(settings, checkin_id)  # Slack refused it for good: none is due
        else:
            continue  # Slack busy or unreachable: the next tick tries again
        sent += int(delivery.sent and delivery.fresh)
    return sent
