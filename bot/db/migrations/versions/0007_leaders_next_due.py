"""Leaders' next-due instant, indexed, so an idle tick reads only who is due.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14 10:00:00

Existing rows start empty, which the tick treats as due: its first pass works each
leader's instant out once, and from then on reads only who is due.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leaders") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(), nullable=True))
    op.create_index("ix_leaders_status_next_due", "leaders", ["status", "next_due_at"])


def downgrade() -> None:
    op.drop_index("ix_leaders_status_next_due", table_name="leaders")
    with op.batch_alter_table("leaders") as batch:
        batch.drop_column("next_due_at")
