"""Class definition files parse into pydantic models; a broken one gives one precise problem."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from service.paths import schedules_dir
from service.registry.classfile import ChainRingRegion, ClassFile, GroupRegion, RingRegion
from service.registry.formats import ClassActionRow, read_registry

SHIPPED = sorted((schedules_dir() / "classes").glob("*.toml"))
US_FRS = schedules_dir() / "classes" / "us-frs.toml"


def _with_class(registry_dir: Path, text: str) -> list[str]:
    """Problems of the class file, written into a copy of the small test registry."""
    (registry_dir / "classes").mkdir()
    (registry_dir / "classes" / "us-frs.toml").write_text(text, encoding="utf-8")
    reg = read_registry(registry_dir, today=date(2026, 12, 1))
    return [str(p) for p in reg.problems if p.file.startswith("classes/")]


def _edited(*edits: tuple[str, str]) -> str:
    """The shipped US FRS file with each `old` text (found exactly once) replaced by `new`."""
    text = US_FRS.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_class_file_parses_into_the_model(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    model = ClassFile.model_validate(data)
    assert model.key == path.stem
    # nothing is lost or invented: the model gives back the file's own tables
    assert model.rules.model_dump(exclude_unset=True) == data["rules"]
    assert len(model.actions) == len(data["actions"])


def test_us_frs_regions_are_told_apart_by_kind() -> None:
    model = ClassFile.model_validate(tomllib.loads(US_FRS.read_text(encoding="utf-8")))
    kinds = [type(region) for region in model.rules.regions]
    assert kinds[:2] == [RingRegion, GroupRegion]
    assert kinds[-1] is ChainRingRegion
    assert [c.key for c in model.rules.clauses] == ["A", "B", "C", "D", "E"]


def test_a_valid_file_reaches_the_registry_as_before(registry_dir: Path) -> None:
    assert _with_class(registry_dir, _edited()) == []
    reg = read_registry(registry_dir, today=date(2026, 12, 1))
    (row,) = reg.classes
    data = tomllib.loads(US_FRS.read_text(encoding="utf-8"))
    assert (row.key, row.jurisdiction, row.schedule, row.where) == (
        "us-frs",
        "US",
        "I",
        "classes/us-frs.toml",
    )
    assert row.rules == data["rules"]
    assert list(row.rules) == list(data["rules"])  # key order kept for the stored JSON
    assert row.examples == data["examples"]
    assert row.actions[0] == ClassActionRow(
        kind="temporary",
        effective_date=date(2018, 2, 6),
        end_date=date(2020, 2, 6),
        citation="83 FR 5188",
        source=data["actions"][0]["source"],
        notes=data["actions"][0]["notes"],
    )


@pytest.mark.parametrize(
    ("edits", "problem"),
    [
        pytest.param(
            [('citation = "83 FR 5188"\n', "")],
            "actions[0].citation: required key is missing",
            id="missing-field",
        ),
        pytest.param(
            [('key = "us-frs"\njurisdiction = "US"\nname', 'key = "us-frs"\nname')],
            "jurisdiction: required key is missing",
            id="missing-top-level-field",
        ),
        pytest.param(
            [('at = 5\nabsent_reason = "no phenethyl', 'at = "5"\nabsent_reason = "no phenethyl')],
            "rules.regions[3].at: must be an integer",
            id="wrong-type",
        ),
        pytest.param(
            [
                (
                    "require_monocycle = true\nrequire_aromatic = true",
                    'require_monocycle = "yes"\nrequire_aromatic = true',
                )
            ],
            "rules.regions[0].require_monocycle: must be true or false",
            id="string-for-a-boolean",
        ),
        pytest.param(
            [
                (
                    'name = "piperidine ring"\nkind = "substituents"',
                    'name = "piperidine ring"\nkind = "substituent"',
                )
            ],
            "rules.regions[2].kind: must be one of group, ring, substituents, chain_ring",
            id="unknown-region-kind",
        ),
        pytest.param(
            [
                (
                    'name = "aniline ring"\nkind = "ring"\nat = 1\nreference = "c1ccccc1"\n',
                    'name = "aniline ring"\nkind = "ring"\nat = 1\n',
                )
            ],
            "rules.regions[0].reference: required key is missing",
            id="field-required-by-the-kind",
        ),
        pytest.param(
            [('key = "C"\n', 'key = "C"\nsmarts = "[#6]"\n')],
            "rules.clauses[2].smarts: unknown key",
            id="unknown-clause-field",
        ),
        pytest.param(
            [('kind = "temporary"\n', 'kind = "provisional"\n')],
            "actions[0].kind: must be one of temporary, extension, permanent, removal, listed_by",
            id="unknown-action-kind",
        ),
        pytest.param(
            [('scaffold = "[#6;R]-[#7X3;!R:1]', 'scaffold = "[#6;R]-[#7X3;!R:1')],
            "rules.scaffold: does not parse as SMARTS",
            id="bad-smarts",
        ),
        pytest.param(
            [('kind = "ring"\nat = 1\n', 'kind = "ring"\nat = 9\n')],
            "rules.regions[0].at: scaffold has no atom mapped 9",
            id="unknown-map-number",
        ),
        pytest.param(
            [('effective_date = "2018-02-06"', 'effective_date = "2018-02"')],
            "actions[0].effective_date: '2018-02': a legal act needs a day (YYYY-MM-DD)",
            id="date-without-day",
        ),
    ],
)
def test_a_broken_file_gives_one_precise_problem(
    registry_dir: Path, edits: list[tuple[str, str]], problem: str
) -> None:
    assert _with_class(registry_dir, _edited(*edits)) == [f"classes/us-frs.toml:1: {problem}"]


def test_toml_syntax_error_names_the_line(registry_dir: Path) -> None:
    problems = _with_class(registry_dir, 'key = "us-frs"\nname = \n')
    assert len(problems) == 1
    assert problems[0].startswith("classes/us-frs.toml:")
    assert ": -: TOML syntax: Invalid value (at line 2, column 8)" in problems[0]


def test_every_problem_of_a_file_is_reported_at_once(registry_dir: Path) -> None:
    text = _edited(
        ('citation = "83 FR 5188"\n', ""),
        ('key = "C"\n', 'key = "C"\nsmarts = "[#6]"\n'),
    )
    assert _with_class(registry_dir, text) == [
        "classes/us-frs.toml:1: actions[0].citation: required key is missing",
        "classes/us-frs.toml:1: rules.clauses[2].smarts: unknown key",
    ]


def test_a_second_file_with_the_same_key_is_refused(registry_dir: Path) -> None:
    assert _with_class(registry_dir, _edited()) == []
    (registry_dir / "classes" / "us-frs-copy.toml").write_text(_edited(), encoding="utf-8")
    reg = read_registry(registry_dir, today=date(2026, 12, 1))
    assert [str(p) for p in reg.problems] == [
        "classes/us-frs.toml:1: key: duplicate class key 'us-frs'"
    ]
    assert [c.where for c in reg.classes] == ["classes/us-frs-copy.toml"]
