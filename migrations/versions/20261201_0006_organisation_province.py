"""organisation province; cases' folded province for the province filter

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00

Organisations of kind `province` take the province of their oldest case, so that existing
applicants keep filing under the name they used; `cases.province_key` is filled from
`cases.province`.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fold(text: str) -> str:
    # As app.core.text.fold at the time of this migration (kept here so the migration stands alone).
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("province", sa.String(length=100), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("province_key", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_cases_province_key"), ["province_key"], unique=False)

    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE organisations SET province = ("
            " SELECT c.province FROM cases c WHERE c.applicant_org_id = organisations.id"
            " ORDER BY c.created_at, c.id LIMIT 1"
            ") WHERE kind = 'province'"
        )
    )
    provinces = connection.execute(sa.text("SELECT DISTINCT province FROM cases")).scalars()
    for province in list(provinces):
        connection.execute(
            sa.text("UPDATE cases SET province_key = :key WHERE province = :province"),
            {"key": _fold(province), "province": province},
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_province_key"))
        batch_op.drop_column("province_key")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("province")
