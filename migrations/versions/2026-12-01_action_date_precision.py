"""Control actions keep the precision of their effective date (old listings known to a year).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # every act stored so far was entered at day precision
    with op.batch_alter_table("control_actions") as batch_op:
        batch_op.add_column(
            sa.Column(
                "effective_precision",
                sa.String(length=5),
                nullable=False,
                server_default=sa.text("'day'"),
            )
        )
        batch_op.create_check_constraint(
            "effective_precision", "effective_precision IN ('day', 'month', 'year')"
        )


def downgrade() -> None:
    # acts known only to a month or a year cannot be kept by the older schema
    op.execute("DELETE FROM control_actions WHERE effective_precision <> 'day'")
    with op.batch_alter_table("control_actions") as batch_op:
        batch_op.drop_constraint("effective_precision", type_="check")
        batch_op.drop_column("effective_precision")
