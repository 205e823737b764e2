"""Substances a law names as outside its schedules (dextromethorphan in the 1961 Convention).

Reviewed by hand. `exclusions` holds, per jurisdiction, the name of the excluded substance,
the schedule or entry it is excluded from, its structure (input SMILES and the full InChIKey
a check matches on), where that structure comes from, a day the cited text shows the
exclusion in force by, and the citation, source URL and quoted words. An exclusion never
decides a status; a check that does not find the structure controlled there carries it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("excluded_from", sa.String(length=300), nullable=False),
        sa.Column("input_smiles", sa.String(length=2000), nullable=False),
        sa.Column("inchikey", sa.String(length=27), nullable=False),
        sa.Column("structure_source", sa.String(length=2000), nullable=False),
        sa.Column("in_force_by", sa.Date(), nullable=False),
        sa.Column("citation", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("secondary_source", sa.String(length=2000), nullable=False),
        sa.Column("quote", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["jurisdictions.code"],
            name=op.f("fk_exclusions_jurisdiction_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusions")),
        sa.UniqueConstraint(
            "jurisdiction",
            "inchikey",
            "excluded_from",
            name=op.f("uq_exclusions_jurisdiction"),
        ),
    )
    op.create_index(op.f("ix_exclusions_jurisdiction"), "exclusions", ["jurisdiction"])
    op.create_index(op.f("ix_exclusions_inchikey"), "exclusions", ["inchikey"])


def downgrade() -> None:
    op.drop_index(op.f("ix_exclusions_inchikey"), table_name="exclusions")
    op.drop_index(op.f("ix_exclusions_jurisdiction"), table_name="exclusions")
    op.drop_table("exclusions")
