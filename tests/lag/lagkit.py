"""Hand-built registries for the lag rule: Snapshots written directly in Python (test helpers)."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import pytest

from service.chem.classes import compile_class
from service.dates import PartialDate
from service.paths import schedules_dir
from service.registry.snapshot import Act, AppearanceFact, ClassFact, Snapshot, SubstanceFact

EU_MEMBERS = frozenset({"SE", "DE", "BE", "NL"})
# a fentanyl analog (member of the US FRS definition) and a non-member
ACRYLFENTANYL = "C=CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
MORPHINE = "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5"


def act(
    kind: str, effective: str, end: str | None = None, *, j: str = "US", citation: str = ""
) -> Act:
    """An act as plain data."""
    return Act(
        jurisdiction=j,
        kind=kind,
        schedule="I",
        effective_date=date.fromisoformat(effective),
        end_date=date.fromisoformat(end) if end else None,
        citation=citation or f"{kind} {effective}",
        source="test",
    )


def appearance(text: str, place: str = "US") -> AppearanceFact:
    """A first report written as in schedules/ (2016, 2016-11, 2016-11-14)."""
    p = PartialDate.parse(text)
    return AppearanceFact(p.earliest, str(p.precision), place, "other", "tester", "test")


def substance(
    key: str,
    *,
    appearances: tuple[AppearanceFact, ...] = (),
    acts: dict[str, tuple[Act, ...]] | None = None,
    smiles: str = ACRYLFENTANYL,
    nps: bool = True,
    family: str = "fentanyl",
    id: int = 1,
) -> SubstanceFact:
    """A substance with its acts and reports."""
    return SubstanceFact(
        id=id,
        key=key,
        name=key.title(),
        smiles=smiles,
        inchikey=f"{key.upper():A<14.14}-TESTKEYSA-N",
        connectivity=f"{key.upper():A<14.14}",
        formula="C",
        family=family,
        nps=nps,
        origin="registry",
        acts=dict(acts or {}),
        appearances=tuple(sorted(appearances, key=lambda a: a.earliest)),
    )


def frs_rules() -> dict[str, Any]:
    """The structural rules of the shipped US fentanyl-related-substances class."""
    path = schedules_dir() / "classes" / "us-frs.toml"
    if path.is_file():
        rules: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))["rules"]
        return rules
    pytest.skip("schedules/classes/us-frs.toml is not there")


def frs_class(jurisdiction: str, acts: tuple[Act, ...], key: str = "test-frs") -> ClassFact:
    """A class definition with the FRS structural rules and the given acts."""
    return ClassFact(
        id=1,
        key=key,
        jurisdiction=jurisdiction,
        name="fentanyl-related substances",
        schedule="I",
        source="test",
        acts=acts,
        compiled=compile_class(key, frs_rules()),
        examples=[],
    )


def snapshot(subs: list[SubstanceFact], classes: list[ClassFact] | None = None) -> Snapshot:
    """A registry of US, UN, CN and EU (members SE, DE, BE, NL)."""
    codes = {"US": "United States", "UN": "United Nations", "CN": "China", "EU": "European Union"}
    return Snapshot(
        digest="test",
        jurisdictions=codes,
        members={c: (EU_MEMBERS if c == "EU" else frozenset()) for c in codes},
        substances=subs,
        classes=classes or [],
    )
