"""The head of each case's history chain (last seq and hash) on the case, back-filled

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_seq", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("head_hash", sa.String(length=64), server_default=GENESIS, nullable=False)
        )
    # Existing cases take the newest entry of their history as it stands today.
    op.execute(
        sa.text(
            "UPDATE cases SET"
            " head_seq = COALESCE("
            "  (SELECT MAX(a.seq) FROM audit_entries a WHERE a.case_id = cases.id), 0),"
            " head_hash = COALESCE("
            "  (SELECT a.hash FROM audit_entries a WHERE a.case_id = cases.id"
            "   ORDER BY a.seq DESC LIMIT 1), :genesis)"
        ).bindparams(genesis=GENESIS)
    )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("head_hash")
        batch_op.drop_column("head_seq")
