"""SQLAlchemy models. Every schema change is an Alembic migration in bot/db/migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class ProcessedEvent(Base):
    """Slack delivers at least once; a key here means we already handled it."""

    __tablename__ = "processed_events"
    event_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TandemThread(Base):
    """Threads Tandem has replied in, so follow-ups there are answered and nowhere else."""

    __tablename__ = "tandem_threads"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DocumentFeedback(Base):
    """Helpful / not helpful, counted per document for curators. No user ids are kept."""

    __tablename__ = "document_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(String(120), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FeedbackVote(Base):
    """One vote per person per answer: a salted hash, so nobody can list who voted."""

    __tablename__ = "feedback_votes"
    vote_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RateWindow(Base):
    """Per-user request counts in fixed windows, shared by every replica."""

    __tablename__ = "rate_windows"
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class FailedSend(Base):
    """A message Slack would not take even after retries: recorded, not lost silently."""

    __tablename__ = "failed_sends"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_failed_sends_open", "resolved", "created_at"),)


__all__ = [
    "Base",
    "ProcessedEvent",
    "TandemThread",
    "DocumentFeedback",
    "FeedbackVote",
    "RateWindow",
    "FailedSend",
    "UniqueConstraint",
    "utcnow",
]
