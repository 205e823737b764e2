"""Migrations: round trips on SQLite and PostgreSQL, and models equal to the head revision."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from service import migrate
from service.check.cartridge import CARTRIDGE_TABLES, include_name, include_object
from service.db import make_engine

TABLES = {
    "alembic_version",
    "appearances",
    "class_actions",
    "class_definitions",
    "control_actions",
    "exclusions",
    "job_leases",
    "jurisdictions",
    "registry_loads",
    "reports",
    "substances",
    "synonyms",
    "unencoded_laws",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
}


def _tables(url: str) -> set[str]:
    """Tables of the database, without the RDKit cartridge's (they exist only with it)."""
    eng = make_engine(url)
    try:
        return set(inspect(eng).get_table_names()) - CARTRIDGE_TABLES
    finally:
        eng.dispose()


def test_upgrade_downgrade_round_trip(database_url: str) -> None:
    migrate.upgrade(database_url)
    assert _tables(database_url) == TABLES
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) == {"alembic_version"}
    migrate.upgrade(database_url)
    assert _tables(database_url) == TABLES
    eng = make_engine(database_url)
    assert migrate.current_revision(eng) == migrate.head_revision(database_url)
    eng.dispose()


def test_models_match_head_revision(database_url: str) -> None:
    migrate.upgrade(database_url)
    command.check(migrate.alembic_config(database_url))  # raises when autogenerate finds a diff
    eng = make_engine(database_url)
    with eng.connect() as conn:
        opts = {"include_name": include_name, "include_object": include_object}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), SQLModel.metadata)
    eng.dispose()
    assert diff == []


def test_constraints_are_named_by_convention(database_url: str) -> None:
    migrate.upgrade(database_url)
    eng = make_engine(database_url)
    insp = inspect(eng)
    uniques = {u["name"] for u in insp.get_unique_constraints("control_actions")}
    fks = {f["name"] for f in insp.get_foreign_keys("control_actions")}
    eng.dispose()
    assert "uq_control_actions_substance_id" in uniques
    assert fks == {
        "fk_control_actions_substance_id_substances",
        "fk_control_actions_jurisdiction_jurisdictions",
    }


def test_upgrade_keeps_loaded_data(database_url: str, registry_dir) -> None:  # type: ignore[no-untyped-def]
    """Each revision applies to a database that already holds a registry."""
    from sqlalchemy import text

    migrate.upgrade(database_url, "0001")
    eng = make_engine(database_url)
    with eng.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO jurisdictions (code, name, kind, members, source) "
                "VALUES ('US', 'United States', 'national', '', 's')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO class_definitions (key, jurisdiction, name, schedule, legal_text, rules,"
                " examples, source, notes) VALUES ('k', 'US', 'n', 'I', 't', '{}', '[]', 's', '')"
            )
        )
    migrate.upgrade(database_url)
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT code, includes FROM jurisdictions")).all()
        classes = conn.execute(text("SELECT count(*) FROM class_definitions")).scalar_one()
    eng.dispose()
    assert [tuple(r) for r in rows] == [("US", "")]
    assert classes == 1
