"""Files of generic laws known but not encoded (`schedules/unencoded/*.toml`): read, checked, loaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.chem.standardize import parse_smiles
from service.paths import schedules_dir
from service.registry.formats import read_registry
from service.registry.loader import load_registry
from service.registry.snapshot import Snapshot

SHIPPED = schedules_dir() / "unencoded" / "uk-fentanyls.toml"


def _with_file(registry_dir: Path, text: str) -> list[str]:
    """Problems of the file, written into a copy of the small test registry."""
    (registry_dir / "unencoded").mkdir(exist_ok=True)
    (registry_dir / "unencoded" / "uk-fentanyls.toml").write_text(text, encoding="utf-8")
    reg = read_registry(registry_dir, today=date(2026, 12, 1))
    return [str(p) for p in reg.problems if p.file.startswith("unencoded/")]


def _edited(old: str, new: str) -> str:
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_shipped_file_is_read_with_its_source_and_date(registry_dir: Path) -> None:
    assert _with_file(registry_dir, SHIPPED.read_text(encoding="utf-8")) == []
    reg = read_registry(registry_dir, today=date(2026, 12, 1))
    (law,) = reg.unencoded
    assert law.key == "uk-fentanyl-generic" and law.jurisdiction == "UK"
    assert law.known_in_force_by == date(2020, 1, 3)
    assert law.source.startswith("https://www.gov.uk/") and law.quote and law.why_unencoded


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        pytest.param(
            'trigger = "[#7X3;!R](-c)',
            'trigger = "[#7X3;!R](-c',
            "trigger: not a SMARTS RDKit can read",
            id="bad-smarts",
        ),
        pytest.param(
            '    "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",            # acetylfentanyl',
            '    "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",\n    "CCOC(=O)C1(c2ccccc2)CCN(C)CC1",',
            "members[2]: 'CCOC(=O)C1(c2ccccc2)CCN(C)CC1' lacks the trigger core",
            id="member-without-the-core",
        ),
        pytest.param(
            '    "c1ccc(NC2CCN(CCc3ccccc3)CC2)cc1",',
            '    "c1ccc(NC2CCN(CCc3ccccc3)CC2)cc1",\n    "CC(=O)N(c1ccccc1)C1CCN(C)CC1",',
            "non_members[7]: 'CC(=O)N(c1ccccc1)C1CCN(C)CC1' has the trigger core",
            id="non-member-with-the-core",
        ),
        pytest.param(
            'jurisdiction = "UK"',
            'jurisdiction = "XX"',
            "jurisdiction: unknown jurisdiction 'XX'",
            id="unknown-jurisdiction",
        ),
        pytest.param(
            "known_in_force_by = 2020-01-03",
            "known_in_force_by = 2031-01-03",
            "known_in_force_by: '2031-01-03' is not between 1900 and today",
            id="future-date",
        ),
        pytest.param('why_unencoded = "', 'why_not = "', "why_not: unknown key", id="unknown-key"),
    ],
)
def test_a_broken_file_is_refused_with_the_field_and_reason(
    registry_dir: Path, old: str, new: str, problem: str
) -> None:
    problems = _with_file(registry_dir, _edited(old, new))
    assert any(
        p.startswith("unencoded/uk-fentanyls.toml:1: ") and problem in p for p in problems
    ), problems


def test_a_missing_source_is_named(registry_dir: Path) -> None:
    text = "\n".join(
        line
        for line in SHIPPED.read_text(encoding="utf-8").splitlines()
        if not line.startswith("source = ")
    )
    assert _with_file(registry_dir, text) == [
        "unencoded/uk-fentanyls.toml:1: source: missing source"
    ]


def test_load_stores_it_and_the_snapshot_tests_its_core(registry_dir: Path, engine: Engine) -> None:
    assert _with_file(registry_dir, SHIPPED.read_text(encoding="utf-8")) == []
    first = load_registry(engine, registry_dir)
    assert first.counts["unencoded"] == {"inserted": 1}
    again = load_registry(engine, registry_dir)
    assert not again.changed
    with Session(engine) as session:
        (law,) = Snapshot.from_session(session).unencoded
    assert law.concerns(parse_smiles("CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"))
    assert not law.concerns(parse_smiles("CCOC(=O)C1(c2ccccc2)CCN(C)CC1"))
    # the file removed, the row goes with the next load
    (registry_dir / "unencoded" / "uk-fentanyls.toml").unlink()
    gone = load_registry(engine, registry_dir)
    assert gone.counts["unencoded"] == {"deleted": 1}
