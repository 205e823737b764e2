"""Online backup and restore of the embedded SQLite database.

Uses SQLite's backup API, which copies a consistent snapshot page by page while other
connections keep reading and writing (WAL mode), so a backup is safe while serving.
For PostgreSQL use `pg_dump` / `pg_restore` (see the README).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.errors import AnalogwatchError


def sqlite_path(url: str) -> Path:
    """The file behind a sqlite:/// URL; refuse other databases."""
    if not url.startswith("sqlite:///"):
        raise AnalogwatchError(
            "db backup/restore are for the embedded SQLite database; use pg_dump for PostgreSQL"
        )
    return Path(url.removeprefix("sqlite:///"))


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def backup(url: str, dest: Path) -> str:
    """Copy the live database to `dest` (overwritten); return its schema revision."""
    src_path = sqlite_path(url)
    if not src_path.is_file():
        raise AnalogwatchError(f"no database at {src_path}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    src = sqlite3.connect(src_path)
    out = sqlite3.connect(tmp)
    try:
        src.backup(out)
        rev = _revision(out)
        if out.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise AnalogwatchError("the backup copy failed its integrity check")
    finally:
        out.close()
        src.close()
    tmp.replace(dest)  # a half-written backup never takes the final name
    return rev or ""


def restore(url: str, source: Path) -> str:
    """Replace the live database's content with a backup; return the restored revision."""
    dest_path = sqlite_path(url)
    if not source.is_file():
        raise AnalogwatchError(f"no backup at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as exc:
            raise AnalogwatchError(
                f"{source} is not an SQLite database ({exc}); nothing restored"
            ) from None
        if not ok:
            raise AnalogwatchError(f"{source} failed its integrity check; nothing restored")
        rev = _revision(src)
        if rev is None:
            raise AnalogwatchError(f"{source} is not an analogwatch database (no schema revision)")
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(dest_path)
        try:
            src.backup(dest)  # one step: readers see the old or the new database, never a mix
        finally:
            dest.close()
    finally:
        src.close()
    return rev
