"""Substances the law names as excluded (`schedules/exclusions/*.csv`): read, checked, loaded."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.paths import schedules_dir
from service.registry.formats import read_registry
from service.registry.loader import load_registry
from service.registry.snapshot import Snapshot

SHIPPED = schedules_dir() / "exclusions"
DXM = "MKXZASYAUGDDCJ-NJAFHUGGSA-N"  # dextromethorphan (PubChem)
LEVOMETHORPHAN = "MKXZASYAUGDDCJ-CGTJXYLNSA-N"
# who publishes the law: the texts an exclusion may rest on
OFFICIAL = (
    "https://www.ecfr.gov/",
    "https://www.federalregister.gov/",
    "https://www.govinfo.gov/",
    "https://www.unodc.org/",
)


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader((SHIPPED / name).open(encoding="utf-8")))


def _write(registry_dir: Path, rows: list[dict[str, str]]) -> list[str]:
    """Problems of an exclusions file holding `rows`, in a copy of the small test registry."""
    (registry_dir / "exclusions").mkdir(exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    (registry_dir / "exclusions" / "un.csv").write_text(buf.getvalue(), encoding="utf-8")
    reg = read_registry(registry_dir, today=date(2026, 12, 5))
    return [str(p) for p in reg.problems if p.file.startswith("exclusions/")]


def test_the_shipped_files_are_read_whole_and_cite_the_law() -> None:
    reg = read_registry(schedules_dir(), today=date(2026, 12, 5))
    assert [p for p in reg.problems if p.file.startswith("exclusions/")] == []
    n_rows = len(_rows("un.csv")) + len(_rows("us.csv"))
    assert len(reg.exclusions) == n_rows >= 13
    for x in reg.exclusions:
        # the law itself or its official publisher stands behind every row
        assert any(u.startswith(OFFICIAL) for u in x.source.split(" ; ")), x.where
        assert x.quote and x.structure_source and x.citation, x.where
        assert x.in_force_by <= date(2026, 12, 5)
    by_name = {(x.jurisdiction, x.name): x for x in reg.exclusions}
    # the Convention excludes dextromethorphan, not its mirror image levomethorphan
    assert by_name[("UN", "Dextromethorphan")].identity.inchikey == DXM
    assert "specifically excluded" in by_name[("UN", "Dextromethorphan")].quote
    assert by_name[("US", "Naloxone")].identity.connectivity == "UZHSEJADLWPNLE"
    # a removal by rule is dated by that rule's effective date
    assert by_name[("US", "Samidorphan")].in_force_by == date(2021, 4, 19)


def _one(**changed: str) -> list[dict[str, str]]:
    row = dict(_rows("un.csv")[0])
    row.update(changed)
    return [row]


@pytest.mark.parametrize(
    ("changed", "problem"),
    [
        pytest.param(
            {"inchikey": LEVOMETHORPHAN},
            f"inchikey: stated {LEVOMETHORPHAN} but the structure is {DXM}",
            id="the-other-stereoisomer",
        ),
        pytest.param({"inchikey": "MKXZASYAUGDDCJ"}, "is not an InChIKey", id="not-a-key"),
        pytest.param({"jurisdiction": "XX"}, "unknown jurisdiction 'XX'", id="jurisdiction"),
        pytest.param({"in_force_by": "2012-05"}, "a legal act needs a day", id="month-only"),
        pytest.param({"in_force_by": "2031-01-01"}, "is not between 1900 and today", id="future"),
        pytest.param({"smiles": "C1CC"}, "smiles: unparseable SMILES", id="bad-smiles"),
        pytest.param({"source": ""}, "source: missing source", id="no-source"),
    ],
)
def test_a_bad_row_is_named_with_its_cell(
    registry_dir: Path, changed: dict[str, str], problem: str
) -> None:
    problems = _write(registry_dir, _one(**changed))
    assert len(problems) == 1 and problem in problems[0], problems
    assert problems[0].startswith("exclusions/un.csv:2: ")


def test_the_same_exclusion_twice_is_refused(registry_dir: Path) -> None:
    row = _one()[0]
    problems = _write(registry_dir, [row, dict(row)])
    assert problems == ["exclusions/un.csv:3: inchikey: duplicate exclusion (first at exclusions/un.csv:2)"]


def test_exclusions_load_and_the_eu_applies_the_uns(registry_dir: Path, engine: Engine) -> None:
    """The EU applies the UN schedules, their exclusions included; the text stays the UN's."""
    assert _write(registry_dir, _rows("un.csv")) == []
    first = load_registry(engine, registry_dir)
    assert first.counts["exclusions"] == {"inserted": 2}
    assert not load_registry(engine, registry_dir).changed
    with Session(engine) as session:
        snap = Snapshot.from_session(session)
    facts = snap.exclusions[DXM]
    assert {(x.jurisdiction, x.written_in) for x in facts} == {("UN", "UN"), ("EU", "UN")}
    eu = next(x for x in facts if x.jurisdiction == "EU")
    assert eu.citation.startswith("UN: Single Convention")
    # known only from the day its text shows it
    assert snap.exclusions_of(DXM, "EU", date(2012, 5, 24)) == [eu]
    assert snap.exclusions_of(DXM, "EU", date(2012, 5, 23)) == []
    assert snap.exclusions_of(DXM, "US", date(2026, 1, 1)) == []
    assert snap.excluded_smiles("dextro-rphan", lambda s: s.casefold().replace("-", "")) == (
        next(r["smiles"] for r in _rows("un.csv") if r["name"] == "Dextrorphan")
    )
    # the file removed, its rows go with the next load
    (registry_dir / "exclusions" / "un.csv").unlink()
    assert load_registry(engine, registry_dir).counts["exclusions"] == {"deleted": 2}
