"""Shared fixtures: databases built by running the migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbkit import (
    PG_ADMIN_URL,
    SERVICE_DB,
    drop_pg_database,
    drop_session_databases,
    new_pg_database,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from service import migrate
from service.db import make_engine

FIXTURES = Path(__file__).parent / "fixtures"
REQUIRE_PG = os.environ.get("ANALOGWATCH_REQUIRE_POSTGRES") == "1" or SERVICE_DB != "sqlite"


def pytest_report_header() -> str:
    return f"analogwatch service database of the tests: {SERVICE_DB}"


def pytest_sessionfinish() -> None:
    if SERVICE_DB != "sqlite":
        drop_session_databases()


def _pg_reachable() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # report why, below
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Admin URL of a reachable PostgreSQL server (fails in CI when it is not reachable)."""
    why = _pg_reachable()
    if why is not None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable at {PG_ADMIN_URL}: {why}")
        pytest.skip(
            f"no PostgreSQL at {PG_ADMIN_URL} ({why}); CI sets ANALOGWATCH_REQUIRE_POSTGRES=1"
        )
    yield PG_ADMIN_URL


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database (dropped afterwards)."""
    name, url = new_pg_database(pg_server)
    try:
        yield url
    finally:
        drop_pg_database(name, pg_server)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = request.getfixturevalue("pg_server")
    name, url = new_pg_database(admin)
    try:
        yield url
    finally:
        drop_pg_database(name, admin)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    migrate.upgrade(database_url)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a migrated SQLite database only (for tests that need no PostgreSQL twin)."""
    url = f"sqlite:///{tmp_path / 'one.db'}"
    migrate.upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    """A writable copy of the small test registry (real substances, sourced)."""
    dest = tmp_path / "schedules"
    shutil.copytree(FIXTURES / "registry", dest)
    return dest
