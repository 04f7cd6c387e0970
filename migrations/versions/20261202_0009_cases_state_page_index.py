"""The list filtered by state is read along one index, ties of `created_at` included.

Cases imported together share their `created_at`; with an index of (state, created_at) alone
a page of such cases sorted all of them by id first.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_state_created_at_id", "cases", ["state", "created_at", "id"])
    op.drop_index("ix_cases_state_created_at", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_state_created_at", "cases", ["state", "created_at"])
    op.drop_index("ix_cases_state_created_at_id", table_name="cases")
