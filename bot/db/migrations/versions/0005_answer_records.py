"""Answers kept for a day: exact sharing and follow-ups.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 19:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("conversation", sa.String(length=80), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_answer_records_user_key", "answer_records", ["user_key"])
    op.create_index("ix_answer_records_expires_at", "answer_records", ["expires_at"])
    op.create_index(
        "ix_answer_records_conversation", "answer_records", ["conversation", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("answer_records")
