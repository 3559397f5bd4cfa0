"""SQLAlchemy models. Every schema change is an Alembic migration in bot/db/migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.clock import utcnow  # every timestamp default reads the one clock
from bot.statuses import (
    CheckInStatus,
    DigestRunStatus,
    LeaderStatus,
    OutboxStatus,
    PeerGroupStatus,
    Sharing,
)


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


class AnswerRecord(Base):
    """An answer exactly as the person saw it, for a day: "Share in channel" posts this (not a
    regenerated answer), and follow-ups in the same conversation build on it. Covered by
    export and erase; expired rows are deleted by the tick. Never logged."""

    __tablename__ = "answer_records"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable
    team_id: Mapped[str] = mapped_column(String(32))
    user_key: Mapped[str] = mapped_column(String(64), index=True)  # bot.identity.person_key
    conversation: Mapped[str] = mapped_column(String(80))  # channel:thread
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)  # JSON: what was shown and what follow-ups need
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)

    __table_args__ = (Index("ix_answer_records_conversation", "conversation", "created_at"),)


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


class OutboxSend(Base):
    """The outbox's ledger for messages with none of their own (invitations, reminders): one
    row per message key, so each is posted once. Ids only: never text, names or channels."""

    __tablename__ = "outbox_sends"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # sending -> sent; or retry (Slack busy or unreachable) -> sending again; or failed.
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.SENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    @staticmethod
    def key_for(kind: str, row_id: int) -> str:
        """The key of a message about one row: ("invitation", a leader's id) and the like.
        Ids are reused once rows are erased, so erasure removes these keys too."""
        return f"{kind}:{row_id}"


class Leader(Base):
    """A person who takes part: their schedule, preferences and consent. Nothing else."""

    __tablename__ = "leaders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    cadence: Mapped[str] = mapped_column(String(16), default="weekly")
    day: Mapped[str] = mapped_column(String(3), default="fri")
    local_time: Mapped[str] = mapped_column(String(5), default="09:30")
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    paused_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    skip_next: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    focus_themes: Mapped[str] = mapped_column(String(400), default="")
    guidance_after_answer: Mapped[bool] = mapped_column(Boolean, default=True)
    # invited -> active -> left; a left leader gets nothing until they join again.
    status: Mapped[str] = mapped_column(String(16), default=LeaderStatus.ACTIVE)
    consent_source: Mapped[str] = mapped_column(String(16), default="self")
    anchor_date: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())
    invited_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # When the tick should next look at this leader (naive UTC), kept by keep_next_due on
    # every change that can move it, so an idle tick reads only who is due. Never later
    # than the truth; empty means "not worked out yet", which the tick treats as due.
    next_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("team_id", "slack_user_id", name="uq_leaders_team_user"),
        Index("ix_leaders_status", "status"),
        Index("ix_leaders_status_next_due", "status", "next_due_at"),
    )


class CheckIn(Base):
    """The send ledger: one row per leader per period, so nothing is ever sent twice."""

    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(24))
    question_id: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # claimed -> sent -> answered | declined; or skipped; failed after retries.
    status: Mapped[str] = mapped_column(String(16), default=CheckInStatus.CLAIMED)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reminder_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("leader_id", "period_key", name="uq_checkins_leader_period"),
        Index("ix_checkins_status_due", "status", "due_at"),
        Index("ix_checkins_message", "channel_id", "message_ts"),
    )


class JournalEntry(Base):
    """A reflection. Private by default; its author alone decides where it may count."""

    __tablename__ = "journal_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkins.id", ondelete="SET NULL"), nullable=True
    )
    question_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    themes: Mapped[str] = mapped_column(String(400), default="")
    # private | team (may count towards anonymous team themes) | peers (may inform matching)
    sharing: Mapped[str] = mapped_column(String(16), default=Sharing.PRIVATE)
    source: Mapped[str] = mapped_column(String(16), default="modal")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_journal_leader_created", "leader_id", "created_at"),)


class AuditEvent(Base):
    """Exports, erasures and imports: who asked and when, never what was in them."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # a hash, so an erased person leaves no id
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PeerPreference(Base):
    """A leader's choice to be introduced to peers, and what they'd like to think about."""

    __tablename__ = "peer_preferences"
    leader_id: Mapped[int] = mapped_column(
        ForeignKey("leaders.id", ondelete="CASCADE"), primary_key=True
    )
    opted_in: Mapped[bool] = mapped_column(Boolean, default=True)
    cadence: Mapped[str] = mapped_column(String(16), default="monthly")  # fortnightly | monthly
    prefer_other_org: Mapped[bool] = mapped_column(Boolean, default=True)
    want_themes: Mapped[str] = mapped_column(String(400), default="")
    offer_themes: Mapped[str] = mapped_column(String(400), default="")
    paused_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Introductions in a row that got no response; at 2 we ask, kindly, whether to pause.
    unanswered_in_row: Mapped[int] = mapped_column(Integer, default=0)
    pause_offered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    sat_out_last: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PeerExclusion(Base):
    """ "I'd rather not be matched with": confidential, never shown to anyone."""

    __tablename__ = "peer_exclusions"
    leader_id: Mapped[int] = mapped_column(
        ForeignKey("leaders.id", ondelete="CASCADE"), primary_key=True
    )
    excluded_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class PeerRound(Base):
    """One matching round per workspace per period: the ledger that stops a round running twice."""

    __tablename__ = "peer_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    round_key: Mapped[str] = mapped_column(String(24))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "round_key", name="uq_peer_rounds_team_key"),)


class PeerGroup(Base):
    """An introduction: two (or three) leaders, why they were matched, and its follow-up."""

    __tablename__ = "peer_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("peer_rounds.id", ondelete="CASCADE"))
    reasons: Mapped[str] = mapped_column(String(400), default="")
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PeerGroupStatus.PLANNED)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    followup_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    followup_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class PeerMember(Base):
    __tablename__ = "peer_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("peer_groups.id", ondelete="CASCADE"), primary_key=True
    )
    leader_id: Mapped[int] = mapped_column(
        ForeignKey("leaders.id", ondelete="CASCADE"), primary_key=True
    )
    response: Mapped[str] = mapped_column(String(16), default="none")  # none | arranged | declined
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class DigestConfig(Base):
    """A team channel's digest: schedule, minimum group size and sections."""

    __tablename__ = "digest_configs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    cadence: Mapped[str] = mapped_column(String(16), default="weekly")  # weekly | fortnightly
    day: Mapped[str] = mapped_column(String(3), default="fri")
    local_time: Mapped[str] = mapped_column(String(5), default="15:00")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    k: Mapped[int] = mapped_column(Integer, default=5)
    sections: Mapped[str] = mapped_column(
        String(200), default="themes,guidance,question,connections,invitation"
    )
    configured_by: Mapped[str] = mapped_column(String(32), default="")
    anchor_date: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_digest_configs_channel"),)


class DigestRun(Base):
    """The digest ledger: one release per channel per period. Keeps salted hashes of who
    counted towards each theme, only so the next digest can refuse to be differenced.

    A release is any showing of a period's aggregates: a preview, a dry run or the post.
    The first one fixes the period's content (``content``, counted up to ``cutoff``), and
    every later showing of that period, the post included, shows exactly that: watching
    previews while someone joins or leaves the channel teaches nothing."""

    __tablename__ = "digest_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_id: Mapped[int] = mapped_column(ForeignKey("digest_configs.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(24))
    # previewed (fixed, not yet posted) | claimed | posted | failed | unsent (Slack busy or
    # unreachable: posted by a later tick)
    status: Mapped[str] = mapped_column(String(16), default=DigestRunStatus.CLAIMED)
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    shown: Mapped[str] = mapped_column(Text, default="{}")  # JSON: theme -> contributor hashes
    # JSON: the released digest (bands, theme names, guidance, question; never people).
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Entries made up to this instant count; the next period starts from it.
    cutoff: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("config_id", "period_key", name="uq_digest_runs_period"),)


__all__ = [
    "Base",
    "ProcessedEvent",
    "TandemThread",
    "AnswerRecord",
    "DocumentFeedback",
    "FeedbackVote",
    "RateWindow",
    "FailedSend",
    "OutboxSend",
    "Leader",
    "CheckIn",
    "JournalEntry",
    "AuditEvent",
    "PeerPreference",
    "PeerExclusion",
    "PeerRound",
    "PeerGroup",
    "PeerMember",
    "DigestConfig",
    "DigestRun",
    "UniqueConstraint",
    "utcnow",
]
