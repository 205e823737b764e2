"""Alembic environment: the URL comes from config.attributes or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, pool
from sqlmodel import SQLModel

import service.models  # noqa: F401  (register every table)
from service.check.cartridge import include_name, include_object
from service.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        # the RDKit cartridge tables of revision 0003 exist only where the extension does,
        # and their mol/bfp/qmol column types are unknown to SQLAlchemy: they are not models,
        # so autogenerate (alembic check) must neither reflect them nor propose dropping them
        include_name=include_name,
        include_object=include_object,
    )


def run_migrations_online() -> None:
    """Run migrations on a live connection (given, or opened from the URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from service.config import get_settings

        url = get_settings().database_url
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # batch mode rebuilds tables; referenced tables cannot be dropped with foreign
            # keys enforced (the pragma only takes effect outside a transaction)
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
