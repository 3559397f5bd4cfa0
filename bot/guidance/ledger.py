"""Answers kept for a day: the conversation's memory, and exactly what may be shared.

A follow-up ("what about with the council?", "more on 2") builds on the earlier answer in
the same conversation: a Slack thread, or a DM within `DM_WINDOW`. "Share in channel" posts
the stored answer, so the public post is exactly what the person chose to share. Rows are
keyed by a random id and a keyed hash of the person (`bot.identity`), expire after
`ANSWER_MEMORY_HOURS`, and are included in export and erase. Their text is never logged.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from bot.db.engine import session_scope
from bot.db.models import AnswerRecord, utcnow
from bot.guidance.service import Answer, Citation, PreviousTurn
from bot.identity import person_key
from bot.settings import Settings

DM_WINDOW = dt.timedelta(hours=1)
PURPOSE = "answers"


def conversation_key(channel_id: str, thread_ts: str | None) -> str:
    return f"{channel_id}:{thread_ts or ''}"[:80]


def _user_key(settings: Settings, team_id: str, user_id: str) -> str:
    return person_key(settings, PURPOSE, team_id, user_id)


def remember(
    settings: Settings,
    team_id: str,
    user_id: str,
    conversation: str,
    answer: Answer,
    now: dt.datetime | None = None,
) -> str:
    """Keep the answer as shown; returns its id (for a Share button)."""
    now = now or utcnow()
    record_id = secrets.token_urlsafe(16)
    payload = {
        "text": answer.answer,
        "grounded": answer.grounded,
        "kind": answer.kind,
        "mode": answer.mode,
        "note": answer.note,
        "citations": [
            {"doc_id": c.doc_id, "title": c.title, "path": c.path} for c in answer.citations
        ],
        "memory": answer.memory(),
    }
    with session_scope(settings) as session:
        session.add(
            AnswerRecord(
                id=record_id,
                team_id=team_id,
                user_key=_user_key(settings, team_id, user_id),
                conversation=conversation,
                question=answer.query,
                answer=json.dumps(payload, ensure_ascii=False),
                created_at=now,
                expires_at=now + dt.timedelta(hours=settings.answer_memory_hours),
            )
        )
    return record_id


@dataclass(frozen=True)
class Kept:
    id: str
    question: str
    answer: Answer
    memory: dict


def _kept(row: AnswerRecord) -> Kept:
    data = json.loads(row.answer)
    answer = Answer(
        row.question,
        bool(data.get("grounded")),
        str(data.get("text", "")),
        [Citation(c["doc_id"], c["title"], c.get("path", "")) for c in data.get("citations", [])],
        str(data.get("mode", "offline")),
        str(data.get("note", "")),
        kind=str(data.get("kind", "answer")),
    )
    return Kept(row.id, row.question, answer, data.get("memory") or {})


def previous_turn(
    settings: Settings, conversation: str, is_dm: bool, now: dt.datetime | None = None
) -> PreviousTurn | None:
    """The latest grounded answer in this conversation that a follow-up can build on."""
    now = now or utcnow()
    since = now - DM_WINDOW if is_dm else now - dt.timedelta(hours=settings.answer_memory_hours)
    with session_scope(settings) as session:
        rows = session.scalars(
            select(AnswerRecord)
            .where(
                AnswerRecord.conversation == conversation,
                AnswerRecord.created_at >= since,
                AnswerRecord.expires_at > now,
            )
            .order_by(AnswerRecord.created_at.desc())
            .limit(5)
        ).all()
        for row in rows:
            turn = PreviousTurn.from_memory(_kept(row).memory)
            if turn is not None:
                return turn
    return None


def kept_answer(
    settings: Settings, record_id: str, team_id: str, user_id: str, now: dt.datetime | None = None
) -> Kept | None:
    """The answer with this id, only for the person it was given to, and only until it expires."""
    now = now or utcnow()
    with session_scope(settings) as session:
        row = session.get(AnswerRecord, record_id[:32])
        if row is None or row.expires_at <= now:
            return None
        if row.team_id != team_id or row.user_key != _user_key(settings, team_id, user_id):
            return None
        return _kept(row)


def purge_expired(settings: Settings, now: dt.datetime | None = None) -> int:
    with session_scope(settings) as session:
        result = session.execute(
            delete(AnswerRecord).where(AnswerRecord.expires_at <= (now or utcnow()))
        )
        return int(result.rowcount or 0)


def export_answers(settings: Settings, team_id: str, user_id: str, data: dict) -> None:
    """Export hook: the questions and answers Tandem is still keeping for this person."""
    key = _user_key(settings, team_id, user_id)
    with session_scope(settings) as session:
        rows = session.scalars(
            select(AnswerRecord)
            .where(AnswerRecord.team_id == team_id, AnswerRecord.user_key == key)
            .order_by(AnswerRecord.created_at)
        ).all()
        data["recent_answers"] = [
            {
                "asked_at": row.created_at.isoformat(),
                "question": row.question,
                "answer": json.loads(row.answer).get("text", ""),
                "deleted_after": row.expires_at.isoformat(),
            }
            for row in rows
        ]


def erase_answers(settings: Settings, team_id: str, user_id: str) -> int:
    """Erase hook: every kept question and answer of this person."""
    key = _user_key(settings, team_id, user_id)
    with session_scope(settings) as session:
        result = session.execute(
            delete(AnswerRecord).where(
                AnswerRecord.team_id == team_id, AnswerRecord.user_key == key
            )
        )
        return int(result.rowcount or 0)
