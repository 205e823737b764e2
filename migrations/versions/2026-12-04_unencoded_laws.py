"""Generic laws known to be in force but not yet encoded as class definitions.

Reviewed by hand. `unencoded_laws` holds, per law, its jurisdiction, the core a structure must
have for the law to concern it (`trigger`, a SMARTS, with a description in words), the day an
official source shows it in force by, that source (citation, URL, quoted words) and why its
clauses are not encoded. A check carries such a law as a caveat; it never decides a status.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unencoded_laws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=1000), nullable=False),
        sa.Column("trigger_description", sa.String(length=500), nullable=False),
        sa.Column("known_in_force_by", sa.Date(), nullable=False),
        sa.Column("citation", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("quote", sa.String(length=2000), nullable=False),
        sa.Column("why_unencoded", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["jurisdictions.code"],
            name=op.f("fk_unencoded_laws_jurisdiction_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unencoded_laws")),
        sa.UniqueConstraint("key", name=op.f("uq_unencoded_laws_key")),
    )
    op.create_index(
        op.f("ix_unencoded_laws_jurisdiction"), "unencoded_laws", ["jurisdiction"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_unencoded_laws_jurisdiction"), table_name="unencoded_laws")
    op.drop_table("unencoded_laws")
