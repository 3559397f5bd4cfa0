"""Initial schema: event dedupe, threads, feedback, rate windows, failed sends.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_key", sa.String(255), primary_key=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"])
    op.create_table(
        "tandem_threads",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("thread_ts", sa.String(32), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "document_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(120), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_document_feedback_doc_id", "document_feedback", ["doc_id"])
    op.create_table(
        "feedback_votes",
        sa.Column("vote_key", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "rate_windows",
        sa.Column("user_key", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.DateTime(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "failed_sends",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_failed_sends_open", "failed_sends", ["resolved", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_failed_sends_open", table_name="failed_sends")
    op.drop_table("failed_sends")
    op.drop_table("rate_windows")
    op.drop_table("feedback_votes")
    op.drop_index("ix_document_feedback_doc_id", table_name="document_feedback")
    op.drop_table("document_feedback")
    op.drop_table("tandem_threads")
    op.drop_index("ix_processed_events_received_at", table_name="processed_events")
    op.drop_table("processed_events")
