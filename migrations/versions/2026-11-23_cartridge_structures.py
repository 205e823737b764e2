"""Registry structures in the RDKit cartridge, where PostgreSQL has it.

On PostgreSQL with `rdkit` in pg_available_extensions: the extension, and two tables the
database-side search reads —

* `substance_structures`: one row per substance, the standardized parent as `mol` and its
  Morgan fingerprint as `bfp`, each with a GiST index. The fingerprint bits are computed by
  the application's RDKit (service.chem.fingerprints, the settings' radius and size) and
  stored with `bfp_from_binary_text`, so both search paths compare identical bits whatever
  RDKit version the cartridge was built with; `fp_radius`/`fp_bits` record the settings the
  row was made with, and `smiles` the structure it was made from, so a sync can tell stale
  rows.
* `class_scaffolds`: the scaffold SMARTS of each class definition as `qmol`, for the
  class-rule prefilter (`query_mol @> scaffold`).

Rows are written by service.check.cartridge.sync_structures (after each registry load and
when the index is rebuilt), never by this migration. Elsewhere (SQLite, PostgreSQL without
the cartridge) this revision does nothing. The tables are not SQLModel models (their column
types exist only with the extension); migrations/env.py keeps them out of `alembic check`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _cartridge_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rdkit'")
    ).first()
    return found is not None


def upgrade() -> None:
    if not _cartridge_available():
        return
    bind = op.get_bind()
    try:
        # a savepoint: an extension script that fails (Debian's 202209 build on PostgreSQL
        # >= 15.6 without the @= operator fix, see .ci/run) must not abort the migration
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS rdkit"))
    except sa.exc.DBAPIError as exc:
        log.warning(
            "rdkit extension not created, cartridge tables skipped: %s", str(exc.orig).strip()
        )
        return
    op.execute(
        """
        CREATE TABLE substance_structures (
            substance_id integer NOT NULL,
            smiles text NOT NULL,
            fp_radius smallint NOT NULL,
            fp_bits smallint NOT NULL,
            mol mol,  -- NULL where the cartridge's RDKit cannot read the SMILES
            mfp bfp NOT NULL,
            CONSTRAINT pk_substance_structures PRIMARY KEY (substance_id),
            CONSTRAINT fk_substance_structures_substance_id_substances
                FOREIGN KEY (substance_id) REFERENCES substances (id) ON DELETE CASCADE
        )
        """
    )
    op.execute("CREATE INDEX ix_substance_structures_mol ON substance_structures USING gist (mol)")
    op.execute("CREATE INDEX ix_substance_structures_mfp ON substance_structures USING gist (mfp)")
    op.execute(
        """
        CREATE TABLE class_scaffolds (
            class_id integer NOT NULL,
            smarts text NOT NULL,
            scaffold qmol,  -- NULL: unreadable by the cartridge, never prefiltered out
            CONSTRAINT pk_class_scaffolds PRIMARY KEY (class_id),
            CONSTRAINT fk_class_scaffolds_class_id_class_definitions
                FOREIGN KEY (class_id) REFERENCES class_definitions (id) ON DELETE CASCADE
        )
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS class_scaffolds")
    op.execute("DROP TABLE IF EXISTS substance_structures")
    # The extension stays: it is installed per database, may serve other schemas, and
    # CREATE EXTENSION IF NOT EXISTS makes the next upgrade find it.
