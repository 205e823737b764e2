"""The registry loader: validation with file:line reasons, all-or-nothing, idempotent reloads."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.errors import RegistryInvalid
from service.models import Appearance, ControlAction, Origin, RegistryLoad, Substance, Synonym
from service.registry.loader import load_registry
from service.registry.service import table_counts

FENTANYL_INCHIKEY = "PJMPHNIQZUBGLI-UHFFFAOYSA-N"  # PubChem CID 3345


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]], fieldnames: list[str] | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fieldnames or list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _edit(path: Path, index: int, **changes: str) -> None:
    rows = _rows(path)
    rows[index].update(changes)
    _write(path, rows)


def _append(path: Path, **values: str) -> None:
    rows = _rows(path)
    rows.append({k: values.get(k, "") for k in rows[0]})
    _write(path, rows)


def test_load_stores_standardized_identity(engine: Engine, registry_dir: Path) -> None:
    result = load_registry(engine, registry_dir)
    assert result.changed
    assert result.counts["substances"] == {"inserted": 5}
    with Session(engine) as s:
        fentanyl = s.execute(select(Substance).where(Substance.key == "fentanyl")).scalar_one()
        assert fentanyl.inchikey == FENTANYL_INCHIKEY
        assert fentanyl.connectivity == FENTANYL_INCHIKEY[:14]
        assert fentanyl.formula == "C22H28N2O"
        assert fentanyl.origin == Origin.registry
        syns = s.execute(select(Synonym.name).where(Synonym.substance_id == fentanyl.id)).scalars()
        assert set(syns) == {"Fentanil", "R-4263"}
        furanyl = s.execute(select(Substance).where(Substance.key == "furanylfentanyl")).scalar_one()
        apps = s.execute(select(Appearance).where(Appearance.substance_id == furanyl.id)).scalars()
        assert {(a.reported_date, a.reported_precision) for a in apps} == {
            (date(2015, 6, 1), "month"),
            (date(2015, 1, 1), "year"),
        }


def test_salt_in_file_is_stored_as_parent(engine: Engine, registry_dir: Path) -> None:
    # fentanyl citrate written with its counter-ion: the stored keys are the free base's
    _edit(
        registry_dir / "substances" / "opioids.csv",
        0,
        smiles="CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.OC(=O)CC(O)(C(=O)O)CC(=O)O",
    )
    load_registry(engine, registry_dir)
    with Session(engine) as s:
        fentanyl = s.execute(select(Substance).where(Substance.key == "fentanyl")).scalar_one()
    assert fentanyl.inchikey == FENTANYL_INCHIKEY
    assert fentanyl.smiles == "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_reload_of_same_files_is_a_no_op(engine: Engine, registry_dir: Path) -> None:
    load_registry(engine, registry_dir)
    with Session(engine) as s:
        before = table_counts(s)
    again = load_registry(engine, registry_dir)
    forced = load_registry(engine, registry_dir, force=True)
    with Session(engine) as s:
        after = table_counts(s)
    assert again.changed is False
    assert forced.changed is False
    assert set(forced.counts["actions"]) == {"unchanged"}
    assert after == {**before, "registry_loads": before["registry_loads"] + 1}


def test_changed_files_update_and_delete(engine: Engine, registry_dir: Path) -> None:
    load_registry(engine, registry_dir)
    actions = registry_dir / "actions" / "us.csv"
    rows = _rows(actions)
    kept = [r for r in rows if r["substance"] != "u-47700"]
    kept[0]["citation"] = "Controlled Substances Act, Pub. L. 91-513, 84 Stat. 1236"
    _write(actions, kept)
    result = load_registry(engine, registry_dir)
    assert result.counts["actions"]["updated"] == 1
    assert result.counts["actions"]["deleted"] == 2  # U-47700 in US and CN
    with Session(engine) as s:
        n = s.execute(select(func.count()).select_from(ControlAction)).scalar_one()
        cites = s.execute(select(ControlAction.citation)).scalars().all()
    assert n == 6
    assert "Controlled Substances Act, Pub. L. 91-513, 84 Stat. 1236" in cites


def test_api_appearances_survive_a_reload(engine: Engine, registry_dir: Path) -> None:
    load_registry(engine, registry_dir)
    with Session(engine) as s:
        u = s.execute(select(Substance).where(Substance.key == "u-47700")).scalar_one()
        s.add(
            Appearance(
                substance_id=u.id,
                reported_date=date(2016, 3, 1),
                reported_precision="month",
                place="SE",
                reporter_type="seizure",
                source="curator report",
                origin=Origin.api.value,
            )
        )
        s.commit()
    apps = registry_dir / "appearances" / "reports.csv"
    _write(apps, _rows(apps)[:1])  # drop one registry appearance
    result = load_registry(engine, registry_dir)
    assert result.counts["appearances"]["deleted"] == 1
    with Session(engine) as s:
        origins = s.execute(select(Appearance.origin)).scalars().all()
    assert sorted(origins) == ["api", "registry"]


BAD_CASES = [
    (
        "substances/opioids.csv",
        {"index": 1, "smiles": "C1CC(N"},
        "substances/opioids.csv:3: smiles: unparseable SMILES",
    ),
    (
        "actions/us.csv",
        {"index": 0, "jurisdiction": "XY"},
        "actions/us.csv:2: jurisdiction: unknown jurisdiction 'XY'",
    ),
    (
        "actions/us.csv",
        {"index": 0, "effective_date": "1971-02-30"},
        "actions/us.csv:2: effective_date: bad date",
    ),
    (
        "appearances/reports.csv",
        {"index": 0, "date": "2999-01"},
        "appearances/reports.csv:2: date: '2999-01' is not between 1900 and today",
    ),
    (
        "actions/us.csv",
        {"index": 1, "source": ""},
        "actions/us.csv:3: source: missing source",
    ),
    (
        "substances/opioids.csv",
        {"index": 4, "smiles": "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "formula": "C22H28N2O"},
        "substances/opioids.csv:6: smiles: duplicate structure: same InChIKey PJMPHNIQZUBGLI-UHFFFAOYSA-N",
    ),
    (
        "actions/us.csv",
        {"index": 0, "substance": "no-such-substance"},
        "actions/us.csv:2: substance: action for an unknown substance 'no-such-substance'",
    ),
    (
        "substances/opioids.csv",
        {"index": 0, "formula": "C22H29N2O"},
        "substances/opioids.csv:2: formula: stated C22H29N2O but the structure is C22H28N2O",
    ),
    (
        "substances/opioids.csv",
        {"index": 0, "cas": "437-38-8"},
        "substances/opioids.csv:2: cas: '437-38-8' is not a valid CAS number",
    ),
    (
        "actions/us.csv",
        {"index": 1, "end_date": "2015-01-01"},
        "actions/us.csv:3: end_date: 2015-01-01 is before the effective date 2016-11-29",
    ),
    (
        "actions/us.csv",
        {"index": 1, "effective_date": "2016-11"},
        "actions/us.csv:3: effective_date: '2016-11': a legal act needs a day (YYYY-MM-DD)",
    ),
    (
        "actions/us.csv",
        {"index": 1, "end_date": ""},
        "actions/us.csv:3: end_date: temporary order without an end date or a follow-up act",
    ),
    (
        "substances/opioids.csv",
        {"index": 0, "family": "barbiturate"},
        "substances/opioids.csv:2: family: unknown family 'barbiturate'",
    ),
    (
        "appearances/reports.csv",
        {"index": 0, "reporter_type": "rumour"},
        "appearances/reports.csv:2: reporter_type: unknown reporter type 'rumour'",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), BAD_CASES, ids=[c[2].split(": ", 1)[1][:40] for c in BAD_CASES])
def test_each_bad_row_is_reported_and_changes_nothing(
    engine: Engine, registry_dir: Path, file: str, change: dict[str, object], expected: str
) -> None:
    load_registry(engine, registry_dir)
    with Session(engine) as s:
        before = table_counts(s)
    change = dict(change)
    index = int(change.pop("index"))  # type: ignore[call-overload]
    # furanylfentanyl's temporary order is followed by its permanent one; remove that act
    # for the "no end date" case so the rule really applies
    if expected.endswith("follow-up act"):
        rows = [r for r in _rows(registry_dir / file) if r["citation"] != "83 FR 61320"]
        _write(registry_dir / file, rows)
    _edit(registry_dir / file, index, **{k: str(v) for k, v in change.items()})
    with pytest.raises(RegistryInvalid) as info:
        load_registry(engine, registry_dir)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(expected) for m in messages), messages
    with Session(engine) as s:
        assert table_counts(s) == before


def test_every_problem_is_reported_at_once(sqlite_engine: Engine, registry_dir: Path) -> None:
    _edit(registry_dir / "substances" / "opioids.csv", 0, formula="C1H1")
    _edit(registry_dir / "actions" / "us.csv", 2, jurisdiction="ZZ")
    _append(registry_dir / "appearances" / "reports.csv", substance="morphine", date="2016-13", place="US", reporter_type="seizure", source="x")
    with pytest.raises(RegistryInvalid) as info:
        load_registry(sqlite_engine, registry_dir)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 3
    assert lines[0].startswith("substances/opioids.csv:2: formula:")
    assert lines[1].startswith("actions/us.csv:4: jurisdiction:")
    assert lines[2].startswith("appearances/reports.csv:4: date: bad date: '2016-13': month 13")
    with Session(sqlite_engine) as s:
        assert s.execute(select(func.count()).select_from(RegistryLoad)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Substance)).scalar_one() == 0


def test_unknown_column_is_an_error(sqlite_engine: Engine, registry_dir: Path) -> None:
    path = registry_dir / "actions" / "us.csv"
    rows = _rows(path)
    for r in rows:
        r["efective_date"] = r.pop("effective_date")
    _write(path, rows)
    with pytest.raises(RegistryInvalid) as info:
        load_registry(sqlite_engine, registry_dir)
    lines = [str(p) for p in info.value.problems]
    assert "actions/us.csv:1: effective_date: required column is missing" in lines
    assert "actions/us.csv:1: efective_date: unknown column" in lines


def test_values_longer_than_their_column_are_reported(sqlite_engine: Engine, registry_dir: Path) -> None:
    """PostgreSQL enforces column lengths that SQLite ignores: the validator checks them first."""
    _edit(registry_dir / "actions" / "us.csv", 0, schedule="S" * 101)
    with pytest.raises(RegistryInvalid) as info:
        load_registry(sqlite_engine, registry_dir)
    assert [str(p) for p in info.value.problems] == [
        "actions/us.csv:2: schedule: is 101 characters; the limit is 100"
    ]


def test_reading_on_29_february_admits_end_dates_ten_years_ahead() -> None:
    """A registry read on 29 February (fixed clock) must not fail computing 'ten years from today'."""
    from datetime import date

    from service.paths import schedules_dir
    from service.registry.formats import read_registry

    reg = read_registry(schedules_dir(), today=date(2028, 2, 29))
    assert [str(p) for p in reg.problems] == []
    assert any(a.end_date is not None for a in reg.actions)
