"""Initial registry schema: substances, synonyms, jurisdictions, control actions,
class definitions and their acts, appearances, registry loads.

Reviewed by hand: every constraint is named by the metadata convention, uniqueness
constraints carry the natural keys that make a reload idempotent, and check constraints
guard vocabularies, date precision and end >= effective dates.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:44:28.171723
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jurisdictions",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("members", sa.String(length=400), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.CheckConstraint(
            "kind IN ('national', 'supranational', 'international')",
            name=op.f("ck_jurisdictions_kind"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jurisdictions")),
    )
    op.create_table(
        "registry_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("directory", sa.String(length=1000), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("checksums", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_loads")),
    )
    op.create_index(op.f("ix_registry_loads_digest"), "registry_loads", ["digest"])
    op.create_table(
        "substances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("systematic_name", sa.String(length=1000), nullable=False),
        sa.Column("name_source", sa.String(length=2000), nullable=False),
        sa.Column("cas", sa.String(length=20), nullable=False),
        sa.Column("input_smiles", sa.String(length=2000), nullable=False),
        sa.Column("smiles", sa.String(length=2000), nullable=False),
        sa.Column("inchi", sa.String(length=4000), nullable=False),
        sa.Column("inchikey", sa.String(length=27), nullable=False),
        sa.Column("connectivity", sa.String(length=14), nullable=False),
        sa.Column("formula", sa.String(length=100), nullable=False),
        sa.Column("family", sa.String(length=40), nullable=False),
        sa.Column("nps", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.String(length=4000), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "family IN ('fentanyl', 'nitazene', 'u-series', 'benzamide', 'cinnamylpiperazine', 'diphenylethylpiperazine', 'benzimidazolone', 'morphinan', 'benzomorphan', 'phenylpiperidine', 'diphenylpropylamine', 'other')",
            name=op.f("ck_substances_family"),
        ),
        sa.CheckConstraint("origin IN ('registry', 'api')", name=op.f("ck_substances_origin")),
        sa.CheckConstraint(
            "length(connectivity) = 14", name=op.f("ck_substances_connectivity_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substances")),
        sa.UniqueConstraint("inchikey", name=op.f("uq_substances_inchikey")),
        sa.UniqueConstraint("key", name=op.f("uq_substances_key")),
    )
    op.create_index(op.f("ix_substances_connectivity"), "substances", ["connectivity"])
    op.create_index(op.f("ix_substances_family"), "substances", ["family"])
    op.create_index(op.f("ix_substances_name"), "substances", ["name"])
    op.create_table(
        "appearances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("substance_id", sa.Integer(), nullable=False),
        sa.Column("reported_date", sa.Date(), nullable=False),
        sa.Column("reported_precision", sa.String(length=5), nullable=False),
        sa.Column("place", sa.String(length=8), nullable=False),
        sa.Column("reporter_type", sa.String(length=20), nullable=False),
        sa.Column("reporter", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.String(length=4000), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("origin IN ('registry', 'api')", name=op.f("ck_appearances_origin")),
        sa.CheckConstraint(
            "reported_precision IN ('day', 'month', 'year')",
            name=op.f("ck_appearances_reported_precision"),
        ),
        sa.CheckConstraint(
            "reporter_type IN ('eu_ews', 'unodc_ewa', 'national_forensic', 'seizure', 'literature', 'other')",
            name=op.f("ck_appearances_reporter_type"),
        ),
        sa.ForeignKeyConstraint(
            ["substance_id"],
            ["substances.id"],
            name=op.f("fk_appearances_substance_id_substances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appearances")),
        sa.UniqueConstraint(
            "substance_id",
            "reported_date",
            "reported_precision",
            "place",
            "reporter_type",
            name=op.f("uq_appearances_substance_id"),
        ),
    )
    op.create_index(op.f("ix_appearances_substance_id"), "appearances", ["substance_id"])
    op.create_table(
        "class_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("legal_text", sa.Text(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["jurisdictions.code"],
            name=op.f("fk_class_definitions_jurisdiction_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_definitions")),
        sa.UniqueConstraint("key", name=op.f("uq_class_definitions_key")),
    )
    op.create_index(
        op.f("ix_class_definitions_jurisdiction"), "class_definitions", ["jurisdiction"]
    )
    op.create_table(
        "control_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("substance_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("citation", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.String(length=4000), nullable=False),
        sa.CheckConstraint(
            "kind IN ('temporary', 'extension', 'permanent', 'removal')",
            name=op.f("ck_control_actions_kind"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= effective_date",
            name=op.f("ck_control_actions_end_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["jurisdictions.code"],
            name=op.f("fk_control_actions_jurisdiction_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["substance_id"],
            ["substances.id"],
            name=op.f("fk_control_actions_substance_id_substances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_actions")),
        sa.UniqueConstraint(
            "substance_id",
            "jurisdiction",
            "kind",
            "effective_date",
            name=op.f("uq_control_actions_substance_id"),
        ),
    )
    op.create_index(op.f("ix_control_actions_jurisdiction"), "control_actions", ["jurisdiction"])
    op.create_index(op.f("ix_control_actions_substance_id"), "control_actions", ["substance_id"])
    op.create_table(
        "synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("substance_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["substance_id"],
            ["substances.id"],
            name=op.f("fk_synonyms_substance_id_substances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synonyms")),
        sa.UniqueConstraint("substance_id", "name_norm", name=op.f("uq_synonyms_substance_id")),
    )
    op.create_index(op.f("ix_synonyms_name_norm"), "synonyms", ["name_norm"])
    op.create_index(op.f("ix_synonyms_substance_id"), "synonyms", ["substance_id"])
    op.create_table(
        "class_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("citation", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("notes", sa.String(length=4000), nullable=False),
        sa.CheckConstraint(
            "kind IN ('temporary', 'extension', 'permanent', 'removal')",
            name=op.f("ck_class_actions_kind"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= effective_date",
            name=op.f("ck_class_actions_end_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["class_definitions.id"],
            name=op.f("fk_class_actions_class_id_class_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_actions")),
        sa.UniqueConstraint(
            "class_id", "kind", "effective_date", name=op.f("uq_class_actions_class_id")
        ),
    )
    op.create_index(op.f("ix_class_actions_class_id"), "class_actions", ["class_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_class_actions_class_id"), table_name="class_actions")
    op.drop_table("class_actions")
    op.drop_index(op.f("ix_synonyms_substance_id"), table_name="synonyms")
    op.drop_index(op.f("ix_synonyms_name_norm"), table_name="synonyms")
    op.drop_table("synonyms")
    op.drop_index(op.f("ix_control_actions_substance_id"), table_name="control_actions")
    op.drop_index(op.f("ix_control_actions_jurisdiction"), table_name="control_actions")
    op.drop_table("control_actions")
    op.drop_index(op.f("ix_class_definitions_jurisdiction"), table_name="class_definitions")
    op.drop_table("class_definitions")
    op.drop_index(op.f("ix_appearances_substance_id"), table_name="appearances")
    op.drop_table("appearances")
    op.drop_index(op.f("ix_substances_name"), table_name="substances")
    op.drop_index(op.f("ix_substances_family"), table_name="substances")
    op.drop_index(op.f("ix_substances_connectivity"), table_name="substances")
    op.drop_table("substances")
    op.drop_index(op.f("ix_registry_loads_digest"), table_name="registry_loads")
    op.drop_table("registry_loads")
    op.drop_table("jurisdictions")
