"""The service starts on a fresh database, migrates, loads the registry and reports health."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient

from service import migrate
from service.app import create_app
from service.config import Settings
from service.errors import AnalogwatchError
from service.paths import migrations_dir, schedules_dir


def test_shipped_data_is_found() -> None:
    assert (schedules_dir() / "jurisdictions.csv").is_file()
    assert (schedules_dir() / "README.md").is_file()
    assert (migrations_dir() / "env.py").is_file()
    assert any((migrations_dir() / "versions").glob("*_initial_registry.py"))


def test_fresh_sqlite_start_loads_registry(tmp_path: Path, registry_dir: Path) -> None:
    db = tmp_path / "nested" / "fresh.db"
    settings = Settings(database_url=f"sqlite:///{db}", schedules_dir=registry_dir)
    with TestClient(create_app(settings)) as client:
        r = client.get("/health")
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "ok"
        assert body["database"] == "reachable"
        assert body["registry"]["loaded"] is True
        assert body["counts"]["substances"] == 5
        assert body["counts"]["control_actions"] == 8
        assert client.get("/docs").status_code == 200
        assert "/health" in client.get("/openapi.json").json()["paths"]
        stats = client.get("/registry/stats").json()
        assert stats["by_jurisdiction"]["CN"] == {"actions": 2, "substances": 2, "classes": 0}
    assert db.is_file()


def test_restart_does_not_reload_unchanged_files(tmp_path: Path, registry_dir: Path) -> None:
    settings = service_settings(service_database_url(tmp_path, "a.db"), schedules_dir=registry_dir)
    for _ in range(2):
        with TestClient(create_app(settings)) as client:
            loads = client.get("/registry/stats").json()["tables"]["registry_loads"]
    assert loads == 1


@pytest.mark.postgres
def test_postgres_below_head_refuses_to_start(pg_database: str, registry_dir: Path) -> None:
    settings = Settings(database_url=pg_database, schedules_dir=registry_dir)
    with (
        pytest.raises(AnalogwatchError, match="analogwatch db upgrade"),
        TestClient(create_app(settings)),
    ):
        pass
    migrate.upgrade(pg_database)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["counts"]["substances"] == 5
