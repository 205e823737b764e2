"""The real registry, loaded once per test session into a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient

from service.app import create_app
from service.check.index import IndexHolder, WatchIndex
from service.config import Settings
from service.paths import schedules_dir


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = service_database_url(tmp_path_factory.mktemp("real"), "registry.db")
    return service_settings(url, schedules_dir=schedules_dir())


@pytest.fixture(scope="session")
def real_client(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def real_index(real_client: TestClient) -> WatchIndex:
    holder: IndexHolder = real_client.app.state.index_holder  # type: ignore[attr-defined]
    return holder.get()


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return Path(__file__).parent.parent / "fixtures"
