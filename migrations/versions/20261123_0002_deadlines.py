"""deadlines: extension, supplement pause and overdue sweep markers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_due_at", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("extended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("clock_remaining_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("clock_original_remaining_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_column("overdue_notified_at")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("overdue_notified_at")
        batch_op.drop_column("clock_original_remaining_days")
        batch_op.drop_column("clock_remaining_days")
        batch_op.drop_column("extended_at")
        batch_op.drop_column("original_due_at")
