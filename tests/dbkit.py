"""Databases for the tests: fresh PostgreSQL databases, and the service database of the
tests that start the service on a registry.

The service-level tests (check, lag, pages, backtest, screening, limits, OpenAPI, app start)
keep their database where ``ANALOGWATCH_TEST_SERVICE_DB`` says: ``sqlite`` (the default, a
file in the test's temporary directory), ``postgresql`` (a fresh database on the server at
``ANALOGWATCH_TEST_POSTGRES_URL``, migrated to head as a production deployment is, dropped at
the end of the session) or ``cartridge`` (the same, with the similarity search in the database
by the RDKit cartridge instead of in memory). CI runs the whole suite each of the three ways.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from service import migrate
from service.config import Settings

PG_ADMIN_URL = os.environ.get(
    "ANALOGWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SERVICE_DB = os.environ.get("ANALOGWATCH_TEST_SERVICE_DB", "sqlite")
if SERVICE_DB not in ("sqlite", "postgresql", "cartridge"):
    raise RuntimeError(
        f"ANALOGWATCH_TEST_SERVICE_DB must be sqlite, postgresql or cartridge, not {SERVICE_DB!r}"
    )
SEARCH_BACKEND = "cartridge" if SERVICE_DB == "cartridge" else "memory"

_session_databases: list[str] = []


def new_pg_database(admin_url: str = PG_ADMIN_URL) -> tuple[str, str]:
    """Create an empty PostgreSQL database; return its name and URL."""
    name = f"aw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    """Drop a test database, closing any connection still open to it."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def service_database_url(directory: Path, filename: str) -> str:
    """URL of an empty service database: an SQLite file in ``directory`` or a migrated PostgreSQL database."""
    if SERVICE_DB == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory / filename}"
    name, url = new_pg_database()
    _session_databases.append(name)
    migrate.upgrade(url)  # the service refuses an unmigrated PostgreSQL database, as in production
    return url


def _backend(url: str) -> str:
    return SEARCH_BACKEND if url.startswith("postgresql") else "memory"


def service_settings(url: str, **kw: Any) -> Settings:
    """Settings of a service on a test database, with the run's similarity-search backend."""
    return Settings(database_url=url, search_backend=_backend(url), **kw)


def service_environment(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The environment of a CLI command on a test database, with the run's search backend."""
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", url)
    monkeypatch.setenv("ANALOGWATCH_SEARCH_BACKEND", _backend(url))


def drop_session_databases() -> None:
    """Drop every service database this session created (called at session end)."""
    while _session_databases:
        drop_pg_database(_session_databases.pop())


def require_rdkit_cartridge(admin_url: str = PG_ADMIN_URL) -> None:
    """Skip (fail in CI) when the PostgreSQL server has no `rdkit` extension to install."""
    import pytest

    eng = create_engine(admin_url)
    with eng.connect() as conn:
        row = conn.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'rdkit'")
        ).first()
    eng.dispose()
    if row is None:
        if os.environ.get("ANALOGWATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail("the RDKit cartridge (postgresql-NN-rdkit) is required in CI")
        pytest.skip("PostgreSQL has no rdkit extension (install postgresql-15-rdkit)")
