"""SQLite backup and restore: a round trip loses nothing, a bad file changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from service import migrate
from service.backup import backup, restore
from service.cli import app
from service.config import get_settings
from service.db import make_engine
from service.errors import AnalogwatchError
from service.models import Appearance, Origin, Substance
from service.registry.loader import load_registry


def _dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def loaded(tmp_path: Path, registry_dir: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(url)
    eng = make_engine(url)
    load_registry(eng, registry_dir)
    with Session(eng) as s:
        sid = s.execute(select(Substance.id).where(Substance.key == "u-47700")).scalar_one()
        s.add(Appearance(substance_id=sid, reported_date=date(2016, 3, 1), reported_precision="month",
                         place="SE", reporter_type="seizure", source="curator", origin=Origin.api.value))
        s.commit()
    eng.dispose()
    yield url


def test_round_trip_loses_nothing(loaded: str, tmp_path: Path) -> None:
    live = Path(loaded.removeprefix("sqlite:///"))
    before = _dump(live)
    rev = backup(loaded, tmp_path / "copy.db")
    assert rev == migrate.head_revision(loaded)
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("DELETE FROM substances")
    conn.commit()
    conn.close()
    assert _dump(live) != before
    restore(loaded, tmp_path / "copy.db")
    assert _dump(live) == before


def test_backup_while_another_connection_writes(loaded: str, tmp_path: Path) -> None:
    live = Path(loaded.removeprefix("sqlite:///"))
    writer = sqlite3.connect(live)
    writer.execute("BEGIN")
    writer.execute("UPDATE substances SET notes = 'uncommitted' WHERE key = 'fentanyl'")
    backup(loaded, tmp_path / "copy.db")  # the open write transaction is not in the copy
    writer.rollback()
    writer.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT notes FROM substances WHERE key='fentanyl'").fetchone() == ("",)
    copy.close()


def test_restore_refuses_a_file_that_is_not_a_backup(loaded: str, tmp_path: Path) -> None:
    live = Path(loaded.removeprefix("sqlite:///"))
    before = _dump(live)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(AnalogwatchError):
        restore(loaded, junk)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(AnalogwatchError, match="not an analogwatch database"):
        restore(loaded, empty)
    assert _dump(live) == before


def test_cli_backup_restore(loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", loaded)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        r = runner.invoke(app, ["db", "backup", str(tmp_path / "b.db")])
        assert r.exit_code == 0 and "backed up" in r.stdout
        r = runner.invoke(app, ["db", "restore", str(tmp_path / "b.db")])
        assert r.exit_code == 0 and "restored" in r.stdout
        r = runner.invoke(app, ["db", "restore", str(tmp_path / "missing.db")])
        assert r.exit_code == 1 and "no backup at" in r.stderr
    finally:
        get_settings.cache_clear()
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", "postgresql://x@127.0.0.1/none")
    get_settings.cache_clear()
    try:
        r = runner.invoke(app, ["db", "backup", str(tmp_path / "c.db")])
        assert r.exit_code == 1 and "use pg_dump" in r.stderr
    finally:
        get_settings.cache_clear()
