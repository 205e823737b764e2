"""Jurisdictions can include another's schedules (the EU includes the UN conventions).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table rebuild): existing rows get the empty default
    op.add_column(
        "jurisdictions",
        sa.Column("includes", sa.String(length=100), nullable=False, server_default=sa.text("''")),
    )


def downgrade() -> None:
    with op.batch_alter_table("jurisdictions") as batch_op:
        batch_op.drop_column("includes")
