"""Consolidated-list acts (`listed_by`), the jurisdiction's code number and secondary sources of
an act, and stereo-exact matching of substances whose legal entry names one stereoisomer.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('temporary', 'extension', 'permanent', 'removal')"
NEW_KINDS = "kind IN ('temporary', 'extension', 'permanent', 'removal', 'listed_by')"


def _kinds(table: str, check: str) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint("kind", type_="check")
        batch_op.create_check_constraint("kind", check)


def upgrade() -> None:
    _kinds("class_actions", NEW_KINDS)
    with op.batch_alter_table("control_actions") as batch_op:
        batch_op.drop_constraint("kind", type_="check")
        batch_op.create_check_constraint("kind", NEW_KINDS)
        batch_op.add_column(
            sa.Column("code", sa.String(length=20), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column(
                "secondary_source",
                sa.String(length=2000),
                nullable=False,
                server_default=sa.text("''"),
            )
        )
    with op.batch_alter_table("substances") as batch_op:
        batch_op.add_column(
            sa.Column("stereo", sa.String(length=10), nullable=False, server_default=sa.text("''"))
        )
        batch_op.create_check_constraint("stereo", "stereo IN ('', 'exact')")


def downgrade() -> None:
    # the older schema has no consolidated-list acts: drop them rather than misread them
    op.execute("DELETE FROM control_actions WHERE kind = 'listed_by'")
    op.execute("DELETE FROM class_actions WHERE kind = 'listed_by'")
    with op.batch_alter_table("substances") as batch_op:
        batch_op.drop_constraint("stereo", type_="check")
        batch_op.drop_column("stereo")
    with op.batch_alter_table("control_actions") as batch_op:
        batch_op.drop_column("secondary_source")
        batch_op.drop_column("code")
        batch_op.drop_constraint("kind", type_="check")
        batch_op.create_check_constraint("kind", OLD_KINDS)
    _kinds("class_actions", OLD_KINDS)
