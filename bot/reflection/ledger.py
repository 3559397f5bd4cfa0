"""The check-in ledger: one row per leader per period, planned, claimed and recorded here.

Planning inserts a row for each check-in that has come due (unique per leader and period, so
a replayed tick, a restart or two schedulers at once plan nothing twice). Senders claim
batches of rows, renew their claims just before sending, and record what Slack accepted; a
claim whose send was never recorded (a crash) goes stale and is claimed again, counting an
attempt, so the next sender looks in the DM before sending. Invitations and reminders are
marked here once the outbox has them. Sending itself is the scheduler's part (jobs/tick.py).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass, fields

from sqlalchemy import Connection, and_, bindparam, or_, select, update

from bot.db.engine import get_engine, get_ephemeral_engine, session_scope
from bot.db.models import CheckIn, Leader, utcnow
from bot.db.next_due import next_due_of
from bot.reflection.leaders import LeaderView, focus_of, schedule_of
from bot.reflection.prompts import choose_question
from bot.schedule import due_for
from bot.settings import Settings
from bot.statuses import CheckInStatus, LeaderStatus

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
# A tick for an instant older than this is a replay of the past, not the scheduler's minute.
REPLAY_BEFORE = dt.timedelta(minutes=5)
CLAIM_BATCH = 500


# --- invitations ---------------------------------------------------------------


def invitations_to_send(settings: Settings) -> list[tuple[int, str, str]]:
    """(leader id, team id, user id) of everyone imported without consent and not yet invited."""
    with session_scope(settings) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Leader.id, Leader.team_id, Leader.slack_user_id).where(
                    Leader.status == LeaderStatus.INVITED, Leader.invited_at.is_(None)
                )
            )
        ]


def mark_invited(settings: Settings, leader_id: int) -> None:
    """Only once Slack has the invitation: until then the next tick tries again."""
    with session_scope(settings) as session:
        session.execute(
            update(Leader)
            .where(Leader.id == leader_id, Leader.invited_at.is_(None))
            .values(invited_at=utcnow())
        )


# --- planning ------------------------------------------------------------------


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


def plan_checkins(settings: Settings, now: dt.datetime) -> int:
    """Insert ledger rows for every check-in due now that has none yet; returns how many.

    Only leaders whose next-due instant has come are read (an indexed range), and each of
    them gets a fresh one afterwards, so an idle tick reads next to nothing. A tick for an
    instant already past (`tandem jobs tick --at`, a replay) reads everyone, as instants
    are worked out from the present on."""
    with session_scope(settings) as session:
        active = select(Leader).where(Leader.status == LeaderStatus.ACTIVE)
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
                "status": CheckInStatus.SKIPPED if skip else CheckInStatus.DUE,
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
            skipped = [r["leader_id"] for r in chunk if r["status"] == CheckInStatus.SKIPPED]
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
    return sum(1 for r in rows if r["status"] == CheckInStatus.DUE)


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


# --- claiming and recording ------------------------------------------------------


@dataclass(frozen=True)
class Sendable:
    """A claimed check-in and what is needed to send it, read in one query."""

    checkin_id: int
    question_id: str
    attempts: int
    due_at: dt.datetime
    leader: LeaderView


def new_claimant() -> str:
    """Each delivery pass claims under its own name: two passes in one process (the tick
    and the delivery worker) must not mistake each other's claims for their own."""
    return f"{WORKER_ID[:50]}:{uuid.uuid4().hex[:8]}"


_CHECKINS = CheckIn.__table__
_LEADERS = Leader.__table__
# Read as plain rows, not ORM objects: a claim reads hundreds of leaders at a time.
_LEADER_COLUMNS = [_LEADERS.c[field.name] for field in fields(LeaderView)]


def claim_sendable(settings: Settings, claimant: str, limit: int = CLAIM_BATCH) -> list[Sendable]:
    """Claim a batch of check-ins to send: due ones, and stale claims a crash left behind.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets every replica claim its own batch at once.
    Each claim counts an attempt, so a later claim of the same row knows a message may
    already be in the DM and looks for it before sending again.
    """
    stale_before = utcnow() - dt.timedelta(seconds=settings.stale_claim_seconds)
    engine = get_engine(settings)
    with engine.begin() as connection:
        query = (
            select(_CHECKINS.c.id)
            .where(
                or_(
                    _CHECKINS.c.status == CheckInStatus.DUE,
                    and_(
                        _CHECKINS.c.status == CheckInStatus.CLAIMED,
                        _CHECKINS.c.claimed_at < stale_before,
                    ),
                )
            )
            .order_by(_CHECKINS.c.due_at, _CHECKINS.c.id)
            .limit(limit)
        )
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(connection.scalars(query))
        if not ids:
            return []
        claimed = []
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            connection.execute(
                update(_CHECKINS)
                .where(_CHECKINS.c.id.in_(chunk))
                .values(
                    status=CheckInStatus.CLAIMED,
                    claimed_by=claimant,
                    claimed_at=utcnow(),
                    attempts=_CHECKINS.c.attempts + 1,
                )
            )
            rows = connection.execute(
                select(
                    _CHECKINS.c.id,
                    _CHECKINS.c.question_id,
                    _CHECKINS.c.attempts,
                    _CHECKINS.c.due_at,
                    *_LEADER_COLUMNS,
                )
                .join(_LEADERS, _LEADERS.c.id == _CHECKINS.c.leader_id)
                .where(_CHECKINS.c.id.in_(chunk))
            )
            for checkin_id, question_id, attempts, due_at, *leader in rows:
                claimed.append(
                    Sendable(checkin_id, question_id, attempts, due_at, LeaderView(*leader))
                )
        return claimed


# Built once: renewing runs before every few sends.
_RENEW = (
    update(_CHECKINS)
    .where(
        _CHECKINS.c.id.in_(bindparam("ids", expanding=True)),
        _CHECKINS.c.status == CheckInStatus.CLAIMED,
        _CHECKINS.c.claimed_by == bindparam("claimant"),
    )
    .values(claimed_at=bindparam("now"))
    .returning(_CHECKINS.c.id)
)


def renew_claims(settings: Settings, ids: list[int], claimant: str) -> set[int]:
    """Refresh our claims just before sending them; returns the ids still ours.

    A claim only goes stale after STALE_CLAIM_SECONDS without this renewal, so a slow but
    living sender keeps its rows, and a dead one's rows pass to another replica. Renewing a
    small group at a time keeps the gap between renewal and send far below that."""
    if not ids:
        return set()
    with get_ephemeral_engine(settings).begin() as connection:
        return renew_claims_on(connection, ids, claimant)


def renew_claims_on(connection: Connection, ids: list[int], claimant: str) -> set[int]:
    """`renew_claims` in a transaction the caller holds (on the engine for ephemeral writes:
    the posting budget's, so a group's renewal and its channels' seconds are one write)."""
    return set(
        connection.scalars(_RENEW, {"ids": list(ids), "claimant": claimant, "now": utcnow()})
    )


# Built once: recording runs every few dozen sends.
_RECORD = (
    update(_CHECKINS)
    .where(_CHECKINS.c.id == bindparam("checkin_id"), _CHECKINS.c.status == CheckInStatus.CLAIMED)
    .values(
        status=CheckInStatus.SENT,
        sent_at=bindparam("sent_at"),
        channel_id=bindparam("channel"),
        message_ts=bindparam("ts"),
        reminder_due_at=bindparam("reminder_at"),
    )
)


def record_sent(settings: Settings, outcomes: list[dict]) -> int:
    """Mark sends in one statement; a crash before this is what the history check covers.

    Each outcome is {"id", "channel", "ts", "reminder_at"}: the check-in, where Slack put
    it, and when its one reminder is due."""
    if not outcomes:
        return 0
    sent_at = utcnow()
    with get_engine(settings).begin() as connection:
        connection.execute(
            _RECORD,
            [
                {
                    "checkin_id": outcome["id"],
                    "sent_at": sent_at,
                    "channel": outcome["channel"],
                    "ts": outcome["ts"],
                    "reminder_at": outcome["reminder_at"],
                }
                for outcome in outcomes
            ],
        )
    return len(outcomes)


def give_up_or_retry(
    settings: Settings, checkin_id: int, *, retryable: bool, max_attempts: int
) -> None:
    """A send that did not go (the outbox has recorded it): give up after `max_attempts`
    or when Slack refused for good, otherwise leave the claim stale so the next tick (on any
    replica) tries again, looking in the DM first."""
    with session_scope(settings) as session:
        row = session.get(CheckIn, checkin_id)
        if row.attempts >= max_attempts or not retryable:
            row.status = CheckInStatus.FAILED
        else:
            row.claimed_at = utcnow() - dt.timedelta(seconds=settings.stale_claim_seconds + 1)


# --- reminders -----------------------------------------------------------------


def reminders_due(settings: Settings, now: dt.datetime) -> list[int]:
    """Ids of sent check-ins whose one reminder has come due and not gone yet."""
    with session_scope(settings) as session:
        return list(
            session.execute(
                select(CheckIn.id).where(
                    and_(
                        CheckIn.status == CheckInStatus.SENT,
                        CheckIn.reminder_sent_at.is_(None),
                        CheckIn.reminder_due_at <= now,
                    )
                )
            )
            .scalars()
            .all()
        )


def load_checkin(settings: Settings, checkin_id: int) -> tuple[CheckIn | None, Leader | None]:
    """The check-in and its leader, detached; (None, None) once it is gone."""
    with session_scope(settings) as session:
        checkin = session.get(CheckIn, checkin_id)
        leader = session.get(Leader, checkin.leader_id) if checkin else None
        for row in (checkin, leader):
            if row is not None:
                session.expunge(row)
        return checkin, leader


def mark_reminder_sent(settings: Settings, checkin_id: int) -> None:
    _settle_reminder(settings, checkin_id, reminder_sent_at=utcnow())


def cancel_reminder(settings: Settings, checkin_id: int) -> None:
    """Slack refused the reminder for good: none is due any more."""
    _settle_reminder(settings, checkin_id, reminder_due_at=None)


def _settle_reminder(settings: Settings, checkin_id: int, **settled) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(CheckIn)
            .where(CheckIn.id == checkin_id, CheckIn.reminder_sent_at.is_(None))
            .values(**settled)
        )
