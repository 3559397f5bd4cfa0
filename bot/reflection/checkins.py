"""Answering, declining and snoozing a check-in. Only its own leader may act on it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import CheckIn, Leader, utcnow
from bot.reflection.journal import NotYours
from bot.reflection.leaders import schedule_of
from bot.schedule import next_local
from bot.settings import Settings
from bot.statuses import CheckInStatus


class CheckinGone(NotYours):
    """No such check-in any more: its leader erased their data (or it never existed)."""


def owned_checkin(settings: Settings, checkin_id: int, team_id: str, user_id: str):
    """(checkin, leader) detached; CheckinGone when it no longer exists, NotYours when the
    clicker is not its leader."""
    with session_scope(settings) as session:
        checkin = session.get(CheckIn, checkin_id)
        if checkin is None:
            raise CheckinGone(checkin_id)
        leader = session.get(Leader, checkin.leader_id)
        if (
            leader is None
            or leader.slack_user_id != user_id
            or (team_id and leader.team_id != team_id)
        ):
            raise NotYours(checkin_id)
        session.expunge(checkin)
        session.expunge(leader)
        return checkin, leader


def checkin_for_thread(settings: Settings, channel_id: str, thread_ts: str, user_id: str):
    """The check-in a DM thread belongs to, if it is this person's."""
    with session_scope(settings) as session:
        row = session.execute(
            select(CheckIn, Leader)
            .join(Leader, Leader.id == CheckIn.leader_id)
            .where(CheckIn.channel_id == channel_id, CheckIn.message_ts == thread_ts)
        ).first()
        if row is None or row[1].slack_user_id != user_id:
            return None
        checkin, leader = row
        session.expunge(checkin)
        session.expunge(leader)
        return checkin, leader


def decline(settings: Settings, checkin_id: int) -> None:
    with session_scope(settings) as session:
        checkin = session.get(CheckIn, checkin_id)
        if checkin.status == CheckInStatus.SENT:
            checkin.status = CheckInStatus.DECLINED


def snooze(
    settings: Settings, checkin_id: int, leader: Leader, how: str, now: dt.datetime | None = None
) -> dt.datetime:
    """Ask again in an hour or tomorrow at the usual time; this is the check-in's one reminder."""
    now = now or utcnow()
    when = (
        now + dt.timedelta(hours=1)
        if how == "hour"
        else next_local(schedule_of(leader), now, days=1)
    )
    with session_scope(settings) as session:
        checkin = session.get(CheckIn, checkin_id)
        checkin.reminder_due_at = when
        checkin.reminder_sent_at = None
    return when
