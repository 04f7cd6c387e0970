"""An index of the workflow versions cases use (the start-up and readiness check).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_workflow_key_version", "cases", ["workflow_key", "workflow_version"])


def downgrade() -> None:
    op.drop_index("ix_cases_workflow_key_version", table_name="cases")
