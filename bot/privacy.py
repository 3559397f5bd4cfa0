"""What Tandem holds about a person: export it, erase it, restore it. Audited without content."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError
from sqlalchemy import delete, select, update

from bot import clock
from bot.db.engine import scrub, session_scope
from bot.db.models import AuditEvent, CheckIn, JournalEntry, Leader, OutboxSend
from bot.identity import person_key
from bot.knowledge.taxonomy import load_taxonomy
from bot.reflection.journal import SHARING
from bot.schedule import ScheduleError, validate
from bot.settings import Settings
from bot.statuses import LeaderStatus, SendKind, Sharing
from bot.text import join_themes, split_themes

EXPORT_VERSION = 1


class ImportRejected(ValueError):
    """The file is not a valid Tandem export; nothing was written."""


def _subject(settings: Settings, team_id: str, user_id: str) -> str:
    """A keyed hash: listing the workspace's user ids does not re-identify an audit row."""
    return person_key(settings, "audit-subject", team_id, user_id)


def audit(settings: Settings, action: str, team_id: str, user_id: str, actor: str) -> None:
    with session_scope(settings) as session:
        session.add(
            AuditEvent(
                action=action, subject=_subject(settings, team_id, user_id), actor=actor[:64]
            )
        )


def forget_audit_link(settings: Settings, team_id: str, user_id: str) -> None:
    """After erasure the audit trail keeps what happened, but no longer whom it was about."""
    unlinked = "erased:" + secrets.token_hex(16)
    with session_scope(settings) as session:
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.subject == _subject(settings, team_id, user_id))
            .values(subject=unlinked)
        )


def _iso(value):
    return value.isoformat() if value else None


def export_user(settings: Settings, team_id: str, user_id: str, actor: str = "self") -> dict:
    """Everything Tandem holds about one person, as plain data."""
    with session_scope(settings) as session:
        leader = session.scalars(
            select(Leader).where(Leader.team_id == team_id, Leader.slack_user_id == user_id)
        ).first()
        data: dict = {
            "tandem_export_version": EXPORT_VERSION,
            "exported_at": clock.now().isoformat(),
            "team_id": team_id,
            "slack_user_id": user_id,
            "leader": None,
            "checkins": [],
            "journal": [],
        }
        if leader is not None:
            data["leader"] = {
                "display_name": leader.display_name,
                "organisation": leader.organisation,
                "time_zone": leader.time_zone,
                "cadence": leader.cadence,
                "day": leader.day,
                "local_time": leader.local_time,
                "quiet_start": leader.quiet_start,
                "quiet_end": leader.quiet_end,
                "paused_until": _iso(leader.paused_until),
                "skip_next": leader.skip_next,
                "focus_themes": split_themes(leader.focus_themes),
                "guidance_after_answer": leader.guidance_after_answer,
                "status": leader.status,
                "consent_source": leader.consent_source,
                "anchor_date": _iso(leader.anchor_date),
                "enrolled_at": _iso(leader.enrolled_at),
            }
            for checkin in session.scalars(
                select(CheckIn).where(CheckIn.leader_id == leader.id).order_by(CheckIn.id)
            ):
                data["checkins"].append(
                    {
                        "period_key": checkin.period_key,
                        "question_id": checkin.question_id,
                        "status": checkin.status,
                        "due_at": _iso(checkin.due_at),
                        "sent_at": _iso(checkin.sent_at),
                        "answered_at": _iso(checkin.answered_at),
                    }
                )
            for entry in session.scalars(
                select(JournalEntry)
                .where(JournalEntry.leader_id == leader.id)
                .order_by(JournalEntry.id)
            ):
                data["journal"].append(
                    {
                        "text": entry.text,
                        "themes": split_themes(entry.themes),
                        "sharing": entry.sharing,
                        "question_id": entry.question_id,
                        "source": entry.source,
                        "created_at": _iso(entry.created_at),
                        "updated_at": _iso(entry.updated_at),
                    }
                )
    for hook in _extra_exporters():
        hook(settings, team_id, user_id, data)
    audit(settings, "export", team_id, user_id, actor)
    return data


def erase_user(settings: Settings, team_id: str, user_id: str, actor: str = "self") -> bool:
    """Remove the person's rows (entries, ledger, schedule) in one transaction."""
    for hook in _extra_erasers():
        hook(settings, team_id, user_id)
    with session_scope(settings) as session:
        leader = session.scalars(
            select(Leader).where(Leader.team_id == team_id, Leader.slack_user_id == user_id)
        ).first()
        existed = leader is not None
        if leader is not None:
            checkin_ids = session.scalars(select(CheckIn.id).where(CheckIn.leader_id == leader.id))
            sends = [OutboxSend.key_for(SendKind.INVITATION, leader.id)]
            sends += [
                OutboxSend.key_for(SendKind.REMINDER, checkin_id) for checkin_id in checkin_ids
            ]
            session.execute(delete(OutboxSend).where(OutboxSend.key.in_(sends)))
            session.execute(delete(JournalEntry).where(JournalEntry.leader_id == leader.id))
            session.execute(delete(CheckIn).where(CheckIn.leader_id == leader.id))
            session.delete(leader)
    audit(settings, "erase", team_id, user_id, actor)
    forget_audit_link(settings, team_id, user_id)
    scrub(settings)
    return existed


def _extra_exporters():
    from bot.guidance.ledger import export_answers
    from bot.peers.privacy import export_peer_data

    return [export_peer_data, export_answers]


def _extra_erasers():
    from bot.digests.privacy import erase_digest_traces
    from bot.guidance.ledger import erase_answers
    from bot.peers.privacy import erase_peer_data

    return [erase_peer_data, erase_digest_traces, erase_answers]


# --- import ----------------------------------------------------------------------


# Every field is checked against its column (in the models) before anything is written, so a
# database error (which could echo a value back) can never be reached from an import file.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _sane_time(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not EARLIEST <= aware <= clock.now() + dt.timedelta(days=1):
        raise ValueError("is not a date between 2000 and now")
    return aware


def check_columns(model, values: dict, where: str = "") -> None:
    """Refuse a value its column cannot hold: longer than the model's limit, or holding a NUL
    (PostgreSQL refuses those). Names the field, never the value."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise ImportRejected(f"{where}{name}: contains a NUL character")
        limit = getattr(model.__table__.columns[name].type, "length", None)
        if limit is not None and len(value) > limit:
            raise ImportRejected(f"{where}{name}: longer than {limit} characters")


class _LeaderIn(BaseModel):
    display_name: str = ""
    organisation: str = ""
    time_zone: str
    cadence: str
    day: str
    local_time: str
    quiet_start: str | None = None
    quiet_end: str | None = None
    paused_until: dt.date | None = None
    skip_next: bool = False
    focus_themes: list[str] = Field(default_factory=list, max_length=12)
    guidance_after_answer: bool = True
    status: LeaderStatus = LeaderStatus.ACTIVE
    consent_source: str = "self"
    anchor_date: dt.date | None = None


class _EntryIn(BaseModel):
    text: str = Field(min_length=1, max_length=200_000)
    themes: list[str] = Field(default_factory=list, max_length=12)
    sharing: Sharing = Sharing.PRIVATE
    question_id: str | None = None
    created_at: Annotated[dt.datetime, AfterValidator(_sane_time)]
    updated_at: Annotated[dt.datetime | None, AfterValidator(_sane_time)] = None


class _ExportIn(BaseModel):
    tandem_export_version: Literal[1]
    team_id: str = Field(pattern=r"^[TE][A-Z0-9]+$")
    slack_user_id: str = Field(pattern=r"^[UW][A-Z0-9]+$")
    leader: _LeaderIn | None
    journal: list[_EntryIn] = Field(default_factory=list)


def import_user(
    settings: Settings,
    raw: str,
    actor: str = "admin",
    user_exists: Callable[[str, str], bool] | None = None,
) -> dict:
    """Restore an export; validated first, written in one transaction or not at all.

    `user_exists(team_id, user_id)` asks the workspace whether the person is real (the CLI
    asks Slack's users.info); an unknown person is refused, never created."""
    try:
        payload = _ExportIn.model_validate(json.loads(raw))
    except json.JSONDecodeError as error:
        raise ImportRejected(
            f"not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise ImportRejected("the JSON is nested too deeply to be an export") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ImportRejected(f"{where}: {message}") from None
    known = {t.slug for t in load_taxonomy(settings.taxonomy_path)}
    used = {t for entry in payload.journal for t in entry.themes}
    used.update(payload.leader.focus_themes if payload.leader else ())
    unknown = sorted(used - known)
    if unknown:
        raise ImportRejected(f"themes: not in the taxonomy: {', '.join(unknown)[:200]}")
    if user_exists is not None and not user_exists(payload.team_id, payload.slack_user_id):
        raise ImportRejected(
            f"{payload.slack_user_id} is not a member of workspace {payload.team_id}"
        )
    if payload.leader is None:
        raise ImportRejected("leader: the export holds no schedule to restore")
    leader_in = payload.leader
    try:
        validate(leader_in.cadence, leader_in.day, leader_in.local_time, leader_in.time_zone)
    except ScheduleError as problem:
        raise ImportRejected(f"leader: {problem}") from None
    leader_values = {
        **leader_in.model_dump(),
        "team_id": payload.team_id,
        "slack_user_id": payload.slack_user_id,
        "focus_themes": join_themes(leader_in.focus_themes),
        "anchor_date": leader_in.anchor_date or clock.utcnow().date(),
    }
    check_columns(Leader, leader_values, "leader.")
    entries = []
    for number, entry in enumerate(payload.journal):
        if entry.sharing not in SHARING:
            raise ImportRejected("journal: unknown sharing choice")
        values = {
            "text": entry.text,
            "themes": join_themes(entry.themes),
            "sharing": entry.sharing,
            "question_id": entry.question_id,
            "source": "import",
            "created_at": entry.created_at.replace(tzinfo=None),
            "updated_at": (entry.updated_at or entry.created_at).replace(tzinfo=None),
        }
        check_columns(JournalEntry, values, f"journal.{number}.")
        entries.append(values)
    with session_scope(settings) as session:
        existing = session.scalars(
            select(Leader).where(
                Leader.team_id == payload.team_id, Leader.slack_user_id == payload.slack_user_id
            )
        ).first()
        if existing is not None:
            raise ImportRejected(
                f"{payload.slack_user_id} already has data here; erase it first to restore an export"
            )
        leader = Leader(**leader_values)
        session.add(leader)
        session.flush()
        session.add_all(JournalEntry(leader_id=leader.id, **values) for values in entries)
    audit(settings, "import", payload.team_id, payload.slack_user_id, actor)
    return {"slack_user_id": payload.slack_user_id, "entries": len(payload.journal)}
