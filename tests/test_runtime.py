"""The composition root: read-only commands never migrate, load or write the database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from service import runtime
from service.cli import app
from service.config import Settings, get_settings

runner = CliRunner()
OXYCODONE = "COc1ccc2CC3N(C)CCC45C(Oc1c24)C(=O)CCC35O"

READ_ONLY_COMMANDS = [
    ["check", OXYCODONE, "--json"],
    ["check", OXYCODONE, "--as-of", "2016-01-01", "--json"],
    ["lag", "summary", "--json"],
    ["backtest", "counterfactual", "--json"],
    ["registry", "export", "--format", "json"],
    ["registry", "stats", "--json"],
]


def _state(directory: Path) -> dict[str, str]:
    """Every file of the database's directory with a digest of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database file holding the shipped registry, loaded by `analogwatch load`."""
    db = tmp_path_factory.mktemp("ro") / "registry.db"
    mp = pytest.MonkeyPatch()
    mp.setenv("ANALOGWATCH_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["load"])
        assert result.exit_code == 0, result.stderr
        yield db
    finally:
        mp.undo()
        get_settings.cache_clear()


@pytest.mark.parametrize("argv", READ_ONLY_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_read_only_commands_leave_the_database_file_as_it_was(
    loaded: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", f"sqlite:///{loaded}")
    get_settings.cache_clear()
    before = _state(loaded.parent)
    mtime = loaded.stat().st_mtime_ns
    loaded.chmod(0o444)
    try:
        result = runner.invoke(app, argv)
    finally:
        loaded.chmod(0o644)
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)
    after = _state(loaded.parent)
    # SQLite may leave an empty -shm/-wal beside a WAL database it read; the database itself
    # and every byte of data are unchanged
    assert after[loaded.name] == before[loaded.name]
    assert loaded.stat().st_mtime_ns == mtime
    for name in set(after) - set(before):
        assert name.endswith(("-shm", "-wal")), name
        assert name.endswith("-shm") or (loaded.parent / name).stat().st_size == 0


def test_the_read_only_engine_refuses_writes(loaded: Path) -> None:
    with runtime.open_read_only(Settings(database_url=f"sqlite:///{loaded}")) as rt:
        assert rt.read_only and rt.source == "database"
        with rt.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM substances")).scalar_one() > 150
            with pytest.raises(OperationalError, match="readonly|read-only|query_only"):
                conn.execute(text("DELETE FROM substances"))


def test_a_first_check_reads_the_registry_without_creating_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "never" / "created.db"
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["check", OXYCODONE, "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    statuses = {v["jurisdiction"]: v["status"] for v in json.loads(result.stdout)["verdicts"]}
    assert statuses["UN"] == "controlled" and statuses["US"] == "controlled"
    assert not db.exists() and not db.parent.exists()


def test_the_scratch_copy_is_deleted_on_close(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'absent.db'}")
    rt = runtime.open_read_only(settings)
    assert rt.source == "scratch"
    scratch = Path(rt.settings.database_url.removeprefix("sqlite:///")).parent
    assert scratch.is_dir() and len(rt.snapshot().substances) > 150
    rt.close()
    assert not scratch.exists()


def test_read_only_sqlite_urls() -> None:
    assert (
        runtime.read_only_url("sqlite:////srv/a.db") == "sqlite:///file:/srv/a.db?mode=ro&uri=true"
    )
    assert runtime.read_only_url("postgresql+psycopg://x@h/db") == "postgresql+psycopg://x@h/db"
