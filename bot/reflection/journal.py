"""The private journal. Who may read or change an entry is decided here, in code."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from bot.db.engine import session_scope
from bot.db.models import CheckIn, JournalEntry, Leader, utcnow
from bot.reflection.themes import tag_themes
from bot.settings import Settings
from bot.statuses import CheckInStatus, Sharing
from bot.text import clean_text, join_themes, split_themes

SHARING = tuple(Sharing)  # in the order they are offered
SHARING_LABELS = {
    Sharing.PRIVATE: "Private to me",
    Sharing.TEAM: "May count towards anonymous team themes",
    Sharing.PEERS: "May inform peer matching",
}


class NotYours(PermissionError):
    """Someone tried to read or change an entry that is not theirs."""


@dataclass
class EntryView:
    id: int
    text: str
    themes: list[str]
    sharing: str
    created_at: dt.datetime
    question_id: str | None


def _view(entry: JournalEntry) -> EntryView:
    return EntryView(
        entry.id,
        entry.text,
        split_themes(entry.themes),
        entry.sharing,
        entry.created_at,
        entry.question_id,
    )


def _taxonomy(settings: Settings):
    return settings.knowledge_dir / "taxonomy.yaml"


def add_entry(
    settings: Settings,
    leader_id: int,
    text: str,
    *,
    checkin_id: int | None = None,
    question_id: str | None = None,
    source: str = "modal",
    sharing: str = Sharing.PRIVATE,
) -> EntryView:
    text = clean_text(text)
    if not text:
        raise ValueError("an empty reflection is not saved")
    if sharing not in SHARING:
        sharing = Sharing.PRIVATE
    themes = tag_themes(text, _taxonomy(settings))
    with session_scope(settings) as session:
        entry = JournalEntry(
            leader_id=leader_id,
            checkin_id=checkin_id,
            question_id=question_id,
            text=text,
            themes=join_themes(themes),
            sharing=sharing,
            source=source,
        )
        session.add(entry)
        if checkin_id is not None:
            checkin = session.get(CheckIn, checkin_id)
            if checkin is not None and checkin.leader_id == leader_id:
                checkin.status, checkin.answered_at = CheckInStatus.ANSWERED, utcnow()
        session.flush()
        return _view(entry)


def append_to_checkin(
    settings: Settings, leader_id: int, checkin: CheckIn, text: str
) -> tuple[EntryView, bool]:
    """Thread replies to a check-in build one entry; returns (entry, created)."""
    text = clean_text(text)
    if not text:
        raise ValueError("an empty reflection is not saved")
    with session_scope(settings) as session:
        entry = session.scalars(
            select(JournalEntry).where(
                JournalEntry.checkin_id == checkin.id, JournalEntry.leader_id == leader_id
            )
        ).first()
        if entry is not None:
            entry.text = f"{entry.text}\n\n{text}"
            entry.themes = join_themes(tag_themes(entry.text, _taxonomy(settings)))
            entry.updated_at = utcnow()
            session.flush()
            return _view(entry), False
    return add_entry(
        settings,
        leader_id,
        text,
        checkin_id=checkin.id,
        question_id=checkin.question_id,
        source="thread",
    ), True


def _owned(session, leader_id: int, entry_id: int) -> JournalEntry:
    entry = session.get(JournalEntry, entry_id)
    if entry is None or entry.leader_id != leader_id:
        raise NotYours(entry_id)
    return entry


def get_entry(settings: Settings, leader_id: int, entry_id: int) -> EntryView:
    with session_scope(settings) as session:
        return _view(_owned(session, leader_id, entry_id))


def edit_entry(settings: Settings, leader_id: int, entry_id: int, text: str) -> EntryView:
    text = clean_text(text)
    if not text:
        raise ValueError("an empty reflection is not saved; delete the entry instead")
    with session_scope(settings) as session:
        entry = _owned(session, leader_id, entry_id)
        entry.text = text
        entry.themes = join_themes(tag_themes(text, _taxonomy(settings)))
        entry.updated_at = utcnow()
        session.flush()
        return _view(entry)


def delete_entry(settings: Settings, leader_id: int, entry_id: int) -> None:
    with session_scope(settings) as session:
        session.delete(_owned(session, leader_id, entry_id))


def set_sharing(settings: Settings, leader_id: int, entry_id: int, sharing: str) -> EntryView:
    if sharing not in SHARING:
        raise ValueError(f"unknown sharing choice {sharing!r}")
    with session_scope(settings) as session:
        entry = _owned(session, leader_id, entry_id)
        entry.sharing = sharing
        entry.updated_at = utcnow()
        session.flush()
        return _view(entry)


def recent_entries(settings: Settings, leader_id: int, limit: int = 5) -> list[EntryView]:
    with session_scope(settings) as session:
        rows = session.scalars(
            select(JournalEntry)
            .where(JournalEntry.leader_id == leader_id)
            .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
            .limit(limit)
        ).all()
        return [_view(e) for e in rows]


def theme_summary(settings: Settings, leader_id: int, weeks: int = 8) -> list[tuple[str, int]]:
    """The themes a leader keeps returning to lately, most frequent first."""
    since = utcnow() - dt.timedelta(weeks=weeks)
    with session_scope(settings) as session:
        rows = session.scalars(
            select(JournalEntry.themes).where(
                JournalEntry.leader_id == leader_id, JournalEntry.created_at >= since
            )
        ).all()
    counts = Counter(t for themes in rows for t in split_themes(themes))
    return counts.most_common()


def sharing_counts(settings: Settings, leader_id: int) -> dict[str, int]:
    with session_scope(settings) as session:
        rows = session.execute(
            select(JournalEntry.sharing, func.count())
            .where(JournalEntry.leader_id == leader_id)
            .group_by(JournalEntry.sharing)
        ).all()
    return {sharing: int(n) for sharing, n in rows}


def purge_older_than(settings: Settings, days: int, now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with session_scope(settings) as session:
        return (
            session.execute(delete(JournalEntry).where(JournalEntry.created_at < cutoff)).rowcount
            or 0
        )


def leader_id_for(settings: Settings, team_id: str, user_id: str) -> int | None:
    with session_scope(settings) as session:
        return session.scalars(
            select(Leader.id).where(Leader.team_id == team_id, Leader.slack_user_id == user_id)
        ).first()
