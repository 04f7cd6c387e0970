"""Indexes for the pipeline's page (by due date) and its medians (by time in state).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_due_at_created_at_id", "cases", ["due_at", "created_at", "id"])
    op.create_index("ix_cases_state_state_entered_at", "cases", ["state", "state_entered_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_state_state_entered_at", table_name="cases")
    op.drop_index("ix_cases_due_at_created_at_id", table_name="cases")
