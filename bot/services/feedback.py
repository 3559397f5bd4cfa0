"""Helpful / not helpful, counted per document for curators; never shown per person."""

from __future__ import annotations

import hashlib

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_scope
from bot.db.models import DocumentFeedback, FeedbackVote
from bot.settings import Settings
from bot.text import clean_text

MAX_REASON_CHARS = 1000


def vote_key(settings: Settings, team_id: str, user_id: str, message_ts: str) -> str:
    salt = settings.secret_value("slack_signing_secret") or "tandem"
    return hashlib.sha256(f"{salt}:{team_id}:{user_id}:{message_ts}".encode()).hexdigest()


def already_voted(settings: Settings, key: str) -> bool:
    """Whether this person has already said something about this answer."""
    with session_scope(settings) as session:
        return session.get(FeedbackVote, key) is not None


def record_feedback(
    settings: Settings,
    key: str,
    doc_ids: list[str],
    helpful: bool,
    reason: str | None = None,
) -> bool:
    """Store one vote per person per answer; False when they already voted on it."""
    reason = clean_text(reason or "")[:MAX_REASON_CHARS] or None
    try:
        with session_scope(settings) as session:
            session.add(FeedbackVote(vote_key=key))
            session.flush()
            session.add_all(
                DocumentFeedback(doc_id=doc_id, helpful=helpful, reason=reason)
                for doc_id in dict.fromkeys(doc_ids)
            )
    except IntegrityError:
        return False
    return True


def feedback_counts(settings: Settings) -> dict[str, dict[str, int]]:
    """Per document: how many answers citing it were marked helpful and not helpful."""
    with session_scope(settings) as session:
        rows = session.execute(
            select(
                DocumentFeedback.doc_id,
                func.sum(case((DocumentFeedback.helpful, 1), else_=0)),
                func.sum(case((DocumentFeedback.helpful, 0), else_=1)),
            ).group_by(DocumentFeedback.doc_id)
        ).all()
    return {doc_id: {"helpful": int(h), "not_helpful": int(n)} for doc_id, h, n in rows}
