"""One pass of all scheduled work as of an instant: `tandem jobs tick` and the scheduler.

Due work is computed from the database every time, and every send goes through the send
ledger (checkins: unique per leader and period), so a replayed tick, a restart or two
schedulers at once cannot send twice. A claim whose send never got recorded (a crash) is
recovered: Tandem first looks in the DM for the message it may already have sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select, update

from bot.db.engine import scrub, session_scope
from bot.db.models import CheckIn, Leader, OutboxSend, utcnow
from bot.db.next_due import next_due_of
from bot.guidance.ledger import purge_expired
from bot.metrics import TICK_STAGE_FAILURES
from bot.reflection.journal import purge_older_than
from bot.reflection.leaders import focus_of, schedule_of
from bot.reflection.prompts import choose_question, question_by_id
from bot.schedule import due_for, next_local
from bot.services.delivery import MAX_ATTEMPTS, Delivery, post, send_once
from bot.settings import Settings
from bot.slack_client import TeamClients
from bot.ui.checkins import (
    METADATA_EVENT,
    checkin_message,
    greeting,
    invitation_message,
    reminder_message,
)

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


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
    with session_scope(settings) as session:
        pending = session.execute(
            select(Leader.id, Leader.team_id, Leader.slack_user_id).where(
                Leader.status == "invited", Leader.invited_at.is_(None)
            )
        ).all()
    sent = 0
    for leader_id, team_id, user_id in pending:
        client = clients.for_team(team_id)
        if client is None:
            continue
        blocks, text = invitation_message()
        delivery = send_once(
            settings,
            client,
            "invitation",
            OutboxSend.key_for("invitation", leader_id),
            {"leader_id": leader_id},
            channel=user_id,
            text=text,
            blocks=blocks,
        )
        if delivery.sent:
            with session_scope(settings) as session:
                session.execute(
                    update(Leader)
                    .where(Leader.id == leader_id, Leader.invited_at.is_(None))
                    .values(invited_at=utcnow())
                )
            sent += int(delivery.fresh)
    return sent


# --- check-ins -----------------------------------------------------------------


def _insert_ignoring_duplicates(session, rows: list[dict]) -> None:
    """Insert ledger rows; a row another tick or replica already planned is left alone."""
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(CheckIn).on_conflict_do_nothing(
        index_elements=["leader_id", "period_key"]
    )
    session.execute(statement, rows)


# A tick for an instant older than this is a replay of the past, not the scheduler's minute.
REPLAY_BEFORE = dt.timedelta(minutes=5)


def plan_checkins(settings: Settings, now: dt.datetime) -> int:
    """Insert ledger rows for every check-in due now that has none yet; returns how many.

    Only leaders whose next-due instant has come are read (an indexed range), and each of
    them gets a fresh one afterwards, so an idle tick reads next to nothing. A tick for an
    instant already past (`tandem jobs tick --at`, a replay) reads everyone, as instants
    are worked out from the present on."""
    with session_scope(settings) as session:
        active = select(Leader).where(Leader.status == "active")
        if now < utcnow() - REPLAY_BEFORE:
            leaders = list(session.scalars(active))
        else:  # two index ranges: never worked out yet, and come due
            leaders = [
                *session.scalars(active.where(Leader.next_due_at.is_(None))),
                *session.scalars(active.where(Leader.next_due_at <= now)),
            ]
        if not leaders:
            return 0
        for leader in leaders:
            session.expunge(leader)
        history: dict[int, list[str]] = {}
        planned: dict[int, set[str]] = {}
        ids = [leader.id for leader in leaders]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for leader_id, period_key, question_id in session.execute(
                select(CheckIn.leader_id, CheckIn.period_key, CheckIn.question_id).where(
                    CheckIn.leader_id.in_(chunk)
                )
            ):
                planned.setdefault(leader_id, set()).add(period_key)
                history.setdefault(leader_id, []).append(question_id)
    todo = []
    for leader in leaders:
        try:
            occurrence = due_for(
                schedule_of(leader),
                now,
                paused_until=leader.paused_until,
                snoozed_until=leader.snoozed_until,
                planned=planned.get(leader.id, set()),
            )
        except ValueError:
            continue
        if occurrence is not None:
            todo.append((leader.id, leader.skip_next, focus_of(leader), occurrence))
    claimed_at = utcnow()
    rows = []
    for leader_id, skip, focus, occurrence in todo:
        question = choose_question(
            settings.prompts_dir,
            focus,
            history.get(leader_id, []),
            f"{leader_id}:{occurrence.period_key}",
        )
        rows.append(
            {
                "leader_id": leader_id,
                "period_key": occurrence.period_key,
                "question_id": question.id,
                "due_at": occurrence.due_utc,
                "status": "skipped" if skip else "due",
                "claimed_by": "",
                "claimed_at": claimed_at,
                "attempts": 0,
            }
        )
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        with session_scope(settings) as session:
            _insert_ignoring_duplicates(session, chunk)
            leader_ids = [r["leader_id"] for r in chunk]
            skipped = [r["leader_id"] for r in chunk if r["status"] == "skipped"]
            if skipped:
                session.execute(
                    update(Leader).where(Leader.id.in_(skipped)).values(skip_next=False)
                )
            session.execute(
                update(Leader)
                .where(Leader.id.in_(leader_ids), Leader.snoozed_until.is_not(None))
                .values(snoozed_until=None)
            )
    _advance_next_due(settings, leaders, planned, rows, now)
    return sum(1 for r in rows if r["status"] == "due")


def _advance_next_due(settings, leaders, planned, rows, now: dt.datetime) -> None:
    """Give every leader this tick looked at their next instant, now that their check-in
    (if one was due) is planned. Written only where next_due_at is still what the tick
    read: a schedule changed meanwhile has already set its own."""
    for row in rows:
        planned.setdefault(row["leader_id"], set()).add(row["period_key"])
    planned_now = {row["leader_id"] for row in rows}
    changes = []
    for leader in leaders:
        if leader.id in planned_now:
            leader.snoozed_until = None  # planning ended any snooze, as written above
        changes.append(
            {
                "leader_id": leader.id,
                "seen": leader.next_due_at,
                "next_due": next_due_of(leader, now, planned.get(leader.id, set())),
            }
        )
    statement = (
        update(Leader.__table__)
        .where(
            Leader.__table__.c.id == bindparam("leader_id"),
            Leader.__table__.c.next_due_at.is_not_distinct_from(bindparam("seen")),
        )
        .values(next_due_at=bindparam("next_due"))
    )
    for start in range(0, len(changes), 1000):
        with session_scope(settings) as session:
            session.connection().execute(statement, changes[start : start + 1000])


@dataclass(frozen=True)
class Sendable:
    """A claimed check-in and what is needed to send it, read in one query."""

    checkin_id: int
    question_id: str
    attempts: int
    due_at: dt.datetime
    leader: Leader


CLAIM_BATCH = 500


def new_claimant() -> str:
    """Each delivery pass claims under its own name: two passes in one process (the tick
    and the delivery worker) must not mistake each other's claims for their own."""
    return f"{WORKER_ID[:50]}:{uuid.uuid4().hex[:8]}"


def claim_sendable(settings: Settings, claimant: str, limit: int = CLAIM_BATCH) -> list[Sendable]:
    """Claim a batch of check-ins to send: due ones, and stale claims a crash left behind.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets every replica claim its own batch at once.
    Each claim counts an attempt, so a later claim of the same row knows a message may
    already be in the DM and looks for it before sending again.
    """
    stale_before = utcnow() - dt.timedelta(seconds=settings.stale_claim_seconds)
    with session_scope(settings) as session:
        query = (
            select(CheckIn.id)
            .where(
                or_(
                    CheckIn.status == "due",
                    and_(CheckIn.status == "claimed", CheckIn.claimed_at < stale_before),
                )
            )
            .order_by(CheckIn.due_at, CheckIn.id)
            .limit(limit)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        for start in range(0, len(ids), 1000):
            session.execute(
                update(CheckIn)
                .where(CheckIn.id.in_(ids[start : start + 1000]))
                .values(
                    status="claimed",
                    claimed_by=claimant,
                    claimed_at=utcnow(),
                    attempts=CheckIn.attempts + 1,
                )
            )
        claimed = []
        for start in range(0, len(ids), 1000):
            rows = session.execute(
                select(CheckIn, Leader)
                .join(Leader, Leader.id == CheckIn.leader_id)
                .where(CheckIn.id.in_(ids[start : start + 1000]))
            ).all()
            for checkin, leader in rows:
                session.expunge(leader)
                claimed.append(
                    Sendable(
                        checkin.id, checkin.question_id, checkin.attempts, checkin.due_at, leader
                    )
                )
        return claimed


def deliver_checkins(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """The scheduler's part: plan what is due, then help deliver it."""
    plan_checkins(settings, now)
    return deliver_claimable(settings, clients, now)


def deliver_claimable(
    settings: Settings, clients: TeamClients, now: dt.datetime | None = None
) -> int:
    """Claim and send batches until nothing is left; every replica runs this."""
    sent = 0
    with ThreadPoolExecutor(settings.delivery_workers, thread_name_prefix="tandem-send") as pool:
        claimant = new_claimant()
        while claimed := claim_sendable(settings, claimant):
            groups = [claimed[i : i + RENEW_GROUP] for i in range(0, len(claimed), RENEW_GROUP)]
            done: list[dict] = []
            for outcomes in pool.map(
                lambda group: _send_group(settings, group, now, clients, claimant), groups
            ):
                done.extend(outcomes)
                if len(done) >= 50:
                    sent += _record_sent(settings, done)
                    done = []
            sent += _record_sent(settings, done)
    return sent


RENEW_GROUP = 8


def _send_group(
    settings: Settings, group: list[Sendable], now, clients: TeamClients, claimant: str
) -> list[dict]:
    """Renew a few claims, then send them; rows taken over as stale are left to their taker."""
    ours = _renew_claims(settings, [item.checkin_id for item in group], claimant)
    renewed_at = time.monotonic()
    outcomes = (
        send_checkin(settings, item, now, clients, claimant, renewed_at)
        for item in group
        if item.checkin_id in ours
    )
    return [outcome for outcome in outcomes if outcome is not None]


def _renew_claims(settings: Settings, ids: list[int], claimant: str) -> set[int]:
    """Refresh our claims just before sending them; returns the ids still ours.

    A claim only goes stale after STALE_CLAIM_SECONDS without this renewal, so a slow but
    living sender keeps its rows, and a dead one's rows pass to another replica. Renewing a
    small group at a time keeps the gap between renewal and send far below that."""
    with session_scope(settings) as session:
        return set(
            session.scalars(
                update(CheckIn)
                .where(
                    CheckIn.id.in_(ids),
                    CheckIn.status == "claimed",
                    CheckIn.claimed_by == claimant,
                )
                .values(claimed_at=utcnow())
                .returning(CheckIn.id)
            )
        )


def _record_sent(settings: Settings, outcomes: list[dict]) -> int:
    """Mark sends in one statement; a crash before this is what the history check covers."""
    if not outcomes:
        return 0
    sent_at = utcnow()
    with session_scope(settings) as session:
        session.connection().execute(
            update(CheckIn)
            .where(CheckIn.id == bindparam("checkin_id"), CheckIn.status == "claimed")
            .values(
                status="sent",
                sent_at=sent_at,
                channel_id=bindparam("channel"),
                message_ts=bindparam("ts"),
                reminder_due_at=bindparam("reminder_at"),
            ),
            [
                {
                    "checkin_id": outcome["id"],
                    "channel": outcome["channel"],
                    "ts": outcome["ts"],
                    "reminder_at": outcome["reminder_at"],
                }
                for outcome in outcomes
            ],
        )
    return len(outcomes)


def send_checkin(
    settings: Settings,
    item: Sendable,
    now: dt.datetime | None,
    clients: TeamClients,
    claimant: str | None = None,
    renewed_at: float | None = None,
) -> dict | None:
    """Send one check-in DM; returns what to record, or None when it could not go.

    `renewed_at` (monotonic) is when the claimant last renewed this claim, if it just did."""
    now = now or utcnow()
    leader = item.leader
    client = clients.for_team(leader.team_id)
    question = question_by_id(settings.prompts_dir, item.question_id)
    if client is None or question is None:
        return None
    schedule = schedule_of(leader)
    local_now = now.replace(tzinfo=dt.UTC).astimezone(schedule.zone)
    blocks, text = checkin_message(
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
        if item.checkin_id not in _renew_claims(settings, [item.checkin_id], claimant):
            return False
        renewed[0] = time.monotonic()
        return True

    # Posting to the user id lands in their DM with Tandem, without a conversations.open.
    # Claimed before, it may already be in the DM: the outbox looks there first.
    delivery = post(
        settings,
        client,
        "checkin",
        maybe_sent=item.attempts > 1,
        team_id=leader.team_id,
        reference={"checkin_id": item.checkin_id},
        final=item.attempts >= MAX_ATTEMPTS,
        still_ours=still_ours if claimant else None,
        channel=leader.slack_user_id,
        text=text,
        blocks=blocks,
        metadata={"event_type": METADATA_EVENT, "event_payload": {"checkin_id": item.checkin_id}},
    )
    if delivery.error == "claim_lost":
        return None  # another sender took it over as stale, and sends it
    if not delivery.sent:
        _failed(settings, item, delivery)
        return None
    reminder_at = next_local(schedule, max(now, item.due_at), days=1)
    return {
        "id": item.checkin_id,
        "channel": delivery.channel,
        "ts": delivery.ts,
        "reminder_at": reminder_at,
    }


def _failed(settings: Settings, item: Sendable, delivery: Delivery) -> None:
    """Slack refused, or tries ran out: the outbox has recorded it; give up, or leave the
    claim stale so the next tick (on any replica) tries again, looking in the DM first."""
    with session_scope(settings) as session:
        row = session.get(CheckIn, item.checkin_id)
        if row.attempts >= MAX_ATTEMPTS or not delivery.retryable:
            row.status = "failed"
        else:
            row.claimed_at = utcnow() - dt.timedelta(seconds=settings.stale_claim_seconds + 1)


def _load(settings: Settings, checkin_id: int):
    with session_scope(settings) as session:
        checkin = session.get(CheckIn, checkin_id)
        leader = session.get(Leader, checkin.leader_id) if checkin else None
        for row in (checkin, leader):
            if row is not None:
                session.expunge(row)
        return checkin, leader


# --- reminders -----------------------------------------------------------------


def send_reminders(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """One gentle reminder in the check-in's thread, marked sent once Slack has it."""
    with session_scope(settings) as session:
        due = (
            session.execute(
                select(CheckIn.id).where(
                    and_(
                        CheckIn.status == "sent",
                        CheckIn.reminder_sent_at.is_(None),
                        CheckIn.reminder_due_at <= now,
                    )
                )
            )
            .scalars()
            .all()
        )
    sent = 0
    for checkin_id in due:
        checkin, leader = _load(settings, checkin_id)
        if checkin is None or checkin.status != "sent" or checkin.reminder_sent_at is not None:
            continue  # answered, declined or reminded since
        client = clients.for_team(leader.team_id)
        question = question_by_id(settings.prompts_dir, checkin.question_id)
        if client is None or question is None:
            continue
        blocks, text = reminder_message(checkin_id, question.text)
        delivery = send_once(
            settings,
            client,
            "reminder",
            OutboxSend.key_for("reminder", checkin_id),
            {"checkin_id": checkin_id},
            channel=checkin.channel_id,
            thread_ts=checkin.message_ts,
            reply_broadcast=True,
            text=text,
            blocks=blocks,
            unfurl_links=False,
        )
        if delivery.sent:
            settled = {"reminder_sent_at": utcnow()}
        elif not delivery.retryable:
            settled = {"reminder_due_at": None}  # Slack refused it for good: none is due
        else:
            continue  # Slack busy or unreachable: the next tick tries again
        with session_scope(settings) as session:
            session.execute(
                update(CheckIn)
                .where(CheckIn.id == checkin_id, CheckIn.reminder_sent_at.is_(None))
                .values(**settled)
            )
        sent += int(delivery.sent and delivery.fresh)
    return sent
