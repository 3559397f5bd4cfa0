"""Joining, schedules and preferences. Every change is the leader's own choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.engine import session_scope
from bot.db.models import Leader, utcnow
from bot.schedule import Schedule, validate
from bot.settings import Settings
from bot.statuses import LeaderStatus
from bot.text import split_themes


@dataclass(frozen=True)
class LeaderView:
    """A leader as the UI and jobs see them: a plain copy of the row, so no caller can change
    it by accident or trip over a session that has closed (like `EntryView` for the journal
    and `DigestSettings` for digests). Changes go through `update_leader`."""

    id: int
    team_id: str
    slack_user_id: str
    display_name: str
    organisation: str
    time_zone: str
    cadence: str
    day: str
    local_time: str
    quiet_start: str | None
    quiet_end: str | None
    paused_until: dt.date | None
    skip_next: bool
    snoozed_until: dt.datetime | None
    focus_themes: str
    guidance_after_answer: bool
    status: str
    consent_source: str
    anchor_date: dt.date
    invited_at: dt.datetime | None
    enrolled_at: dt.datetime | None
    created_at: dt.datetime
    next_due_at: dt.datetime | None

    @classmethod
    def of(cls, leader: Leader) -> LeaderView:
        return cls(**{column.name: getattr(leader, column.name) for column in fields(cls)})


def schedule_of(leader: Leader | LeaderView) -> Schedule:
    return Schedule(
        cadence=leader.cadence,
        day=leader.day,
        local_time=leader.local_time,
        time_zone=leader.time_zone,
        anchor=leader.anchor_date,
        quiet_start=leader.quiet_start,
        quiet_end=leader.quiet_end,
    )


def focus_of(leader: Leader | LeaderView) -> list[str]:
    return split_themes(leader.focus_themes)


def find_leader(session: Session, team_id: str, user_id: str) -> Leader | None:
    return session.scalars(
        select(Leader).where(Leader.team_id == team_id, Leader.slack_user_id == user_id)
    ).first()


def enrol(
    settings: Settings,
    team_id: str,
    user_id: str,
    *,
    time_zone: str | None = None,
    display_name: str = "",
    organisation: str = "",
    consent_source: str = "self",
    **schedule,
) -> LeaderView:
    """Join (or re-join) check-ins; an existing schedule is kept unless new values are given."""
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        if leader is None:
            leader = Leader(team_id=team_id, slack_user_id=user_id, anchor_date=utcnow().date())
            session.add(leader)
        if time_zone:
            leader.time_zone = time_zone
        if display_name:
            leader.display_name = display_name
        if organisation:
            leader.organisation = organisation
        for key, value in schedule.items():
            if value is not None:
                setattr(leader, key, value)
        validate(
            leader.cadence or "weekly",
            leader.day or "fri",
            leader.local_time or "09:30",
            leader.time_zone,
        )
        leader.status = LeaderStatus.ACTIVE
        leader.consent_source = consent_source
        leader.enrolled_at = utcnow()
        session.flush()
        return LeaderView.of(leader)


def update_leader(settings: Settings, team_id: str, user_id: str, **changes) -> LeaderView | None:
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        if leader is None:
            return None
        for key, value in changes.items():
            setattr(leader, key, value)
        schedule_of(leader)  # raises ScheduleError on an unusable combination
        session.flush()
        return LeaderView.of(leader)


def get_leader(settings: Settings, team_id: str, user_id: str) -> LeaderView | None:
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        return LeaderView.of(leader) if leader is not None else None


def today_local(leader: Leader | LeaderView) -> dt.date:
    return utcnow().replace(tzinfo=dt.UTC).astimezone(schedule_of(leader).zone).date()
