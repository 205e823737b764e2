"""The command line: data as JSON, secrets masked, one-line errors and non-zero exits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import migrate
from service.cli import app
from service.config import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("ANALOGWATCH_CURATOR_API_KEYS", "secret-key-0123456789,another-key-0123456789")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_config_masks_secrets(env: Path) -> None:
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["curator_api_keys"] == ["********", "********"]
    assert "secret-key" not in result.stdout
    assert data["database_url"] == f"sqlite:///{env}"


def test_bad_setting_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALOGWATCH_SIMILARITY_THRESHOLD", "1.5")
    get_settings.cache_clear()
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: invalid setting similarity_threshold: Input should be less than or equal to 1"
    ]


def test_load_then_stats(env: Path, registry_dir: Path) -> None:
    first = runner.invoke(app, ["load", str(registry_dir), "--json"])
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["changed"] is True
    again = runner.invoke(app, ["load", str(registry_dir)])
    assert again.exit_code == 0
    assert "registry unchanged" in again.stdout
    stats = json.loads(runner.invoke(app, ["registry", "stats", "--json"]).stdout)
    assert stats["tables"]["substances"] == 5
    assert stats["by_family"] == {"fentanyl": 3, "morphinan": 1, "u-series": 1}
    assert stats["nps"] == {"substances": 3, "with_appearance": 1, "share_with_appearance": 0.333}
    assert stats["files"]["actions/us.csv"]["rows"] == 8
    current = runner.invoke(app, ["db", "current"])
    head = migrate.head_revision(f"sqlite:///{env}")
    assert head is not None
    assert f"current: {head}  head: {head}" in current.stdout


def test_load_errors_list_every_problem_and_exit_1(env: Path, registry_dir: Path) -> None:
    path = registry_dir / "actions" / "us.csv"
    path.write_text(path.read_text().replace(",US,permanent,II,1971-05-01", ",XY,permanent,II,1971-05-01"))
    result = runner.invoke(app, ["load", str(registry_dir)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "actions/us.csv:2: jurisdiction: unknown jurisdiction 'XY'",
        "error: 1 problem(s) in the registry files; nothing loaded",
    ]
    assert not env.exists() or runner.invoke(app, ["registry", "stats", "--json"]).exit_code in (0, 1)


def test_load_check_validates_without_a_database(env: Path, registry_dir: Path) -> None:
    result = runner.invoke(app, ["load", str(registry_dir), "--check", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["substances"] == 5
    assert not env.exists()


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["registry", "stats"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database unavailable:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_python_dash_m_service_runs_the_command_line() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "service", "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "registry" in out.stdout and "check" in out.stdout
