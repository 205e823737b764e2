"""Locate the data shipped beside the package: schedules/ and migrations/.

From a source checkout they sit at the repository root; an installed wheel carries them
under service/_data/ (hatchling force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the shipped {name}/ directory beside the package")


def schedules_dir() -> Path:
    """Directory of the shipped registry files."""
    return _locate("schedules")


def migrations_dir() -> Path:
    """Directory of the Alembic environment and revisions."""
    return _locate("migrations")
