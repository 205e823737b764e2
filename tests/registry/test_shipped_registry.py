"""Quality gates on the shipped registry in schedules/: parse, formula, identity, sources, dates."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from rdkit import Chem

from service.chem.standardize import parent, standardize_smiles
from service.paths import schedules_dir
from service.registry.formats import read_registry

ROOT = schedules_dir()


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return read_registry(ROOT)


def _csv(sub: str) -> list[tuple[str, int, dict[str, str]]]:
    rows = []
    for f in sorted((ROOT / sub).rglob("*.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            for n, r in enumerate(csv.DictReader(fh), start=2):
                rows.append((f.relative_to(ROOT).as_posix(), n, r))
    return rows


def test_registry_validates_without_problems(registry) -> None:  # type: ignore[no-untyped-def]
    assert [str(p) for p in registry.problems] == []
    assert len(registry.substances) >= 130
    assert len(registry.classes) >= 2


def test_every_structure_parses_and_matches_its_stated_formula() -> None:
    bad = []
    for where, line, r in _csv("substances"):
        _, ident = standardize_smiles(r["smiles"])
        if ident.formula != r["formula"]:
            bad.append(f"{where}:{line} {r['key']}: {ident.formula} != {r['formula']}")
    assert bad == []


def test_inchikeys_are_unique(registry) -> None:  # type: ignore[no-untyped-def]
    keys = [s.identity.inchikey for s in registry.substances]
    assert len(keys) == len(set(keys))


def test_systematic_names_give_the_same_skeleton_by_opsin(tmp_path: Path) -> None:
    """The systematic name printed in a legal notice or reference, read by OPSIN, is the stored structure."""
    from py2opsin import py2opsin

    rows = [(w, n, r) for w, n, r in _csv("substances") if r["systematic_name"]]
    assert len(rows) >= 100
    # py2opsin's default input file sits in the working directory: keep runs apart
    smiles = py2opsin([r["systematic_name"] for _, _, r in rows], tmp_fpath=str(tmp_path / "names.txt"))
    disagree = []
    for (where, line, r), opsin in zip(rows, smiles, strict=True):
        mol = Chem.MolFromSmiles(opsin) if opsin else None
        if mol is None:
            disagree.append(f"{where}:{line} {r['key']}: OPSIN cannot read the name")
            continue
        got = Chem.MolToInchiKey(parent(mol))[:14]
        want = standardize_smiles(r["smiles"])[1].connectivity
        if got != want:
            disagree.append(f"{where}:{line} {r['key']}: OPSIN {got} != stored {want}")
    assert disagree == []


def test_substances_without_a_systematic_name_are_explained() -> None:
    """Where no systematic name could be sourced, the notes say how the structure was checked."""
    missing = [(w, n, r) for w, n, r in _csv("substances") if not r["systematic_name"]]
    unexplained = [f"{w}:{n} {r['key']}" for w, n, r in missing if len(r["notes"]) < 20]
    assert unexplained == []


@pytest.mark.parametrize("sub", ["substances", "actions", "appearances"])
def test_every_row_has_a_source(sub: str) -> None:
    assert [f"{w}:{n}" for w, n, r in _csv(sub) if not r["source"].strip()] == []
    assert [f"{w}:{n}" for w, n, r in _csv(sub) if "/work/" in r["source"]] == []


def test_dates_are_plausible_and_acts_are_days(registry) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    for a in registry.actions:
        assert date(1900, 1, 1) <= a.effective_date <= today, a.where
        assert a.end_date is None or a.end_date >= a.effective_date, a.where
    for p in registry.appearances:
        assert date(1900, 1, 1) <= p.date.earliest <= today, p.where


def test_temporary_orders_have_an_end_or_a_follow_up(registry) -> None:  # type: ignore[no-untyped-def]
    later: dict[tuple[str, str], list[date]] = {}
    for a in registry.actions:
        later.setdefault((a.substance, a.jurisdiction), []).append(a.effective_date)
    for a in registry.actions:
        if a.kind == "temporary" and a.end_date is None:
            assert any(d > a.effective_date for d in later[(a.substance, a.jurisdiction)]), a.where


def test_counts_come_from_rows(registry) -> None:  # type: ignore[no-untyped-def]
    """China listed about two dozen fentanyl analogs by name on its NPS supplementary list
    before May 2019 (25 per the State Council Information Office, 1 April 2019); the registry
    must not claim 134. Medical fentanyls in the Catalogue of Narcotic Drugs are not analogs."""
    fentanyls = {s.key for s in registry.substances if s.family == "fentanyl"}
    cn_before = {
        a.substance
        for a in registry.actions
        if a.jurisdiction == "CN"
        and a.substance in fentanyls
        and a.schedule == "NPS supplementary list"
        and a.effective_date < date(2019, 5, 1)
    }
    assert 10 <= len(cn_before) <= 25
