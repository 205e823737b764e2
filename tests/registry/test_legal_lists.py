"""The registry against the legal lists: every listed opioid is there, every act cites the law,
and no two rows contradict each other.

The lists under `tests/fixtures/legal_lists/` are transcribed from the legal texts (each row
names its source): one row per entry of a list, opioid or not, with the registry key of
each opioid. A file's name starts with its jurisdiction (`un-`, `us-`, `uk-`, `cn-`, `eu-`).
An entry the registry knowingly lacks says why in its `gap` column.

`tests/fixtures/registry_gaps.toml` lists the other things the registry knowingly lacks, each
with why. The tests fail on a gap that is not listed there and on a listed gap that has been
closed, so the file stays true: it may only shrink as the registry grows.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from service.paths import schedules_dir
from service.registry.formats import Registry, read_registry

ROOT = schedules_dir()
LISTS = Path(__file__).parent.parent / "fixtures" / "legal_lists"
GAPS = tomllib.loads((LISTS.parent / "registry_gaps.toml").read_text(encoding="utf-8"))

# the legal text itself or its official publisher
OFFICIAL = re.compile(
    r"federalregister\.gov|govinfo\.gov|ecfr\.gov|regulations\.gov|deadiversion\.usdoj\.gov|"
    r"(?:^|[/.])dea\.gov|congress\.gov|uscode\.house\.gov|"
    r"(?:^|[/.])gov\.uk|"
    r"unodc\.org|undocs\.org|documents\.un\.org|(?:^|[/.])un\.org|incb\.org|who\.int|"
    r"eur-lex\.europa\.eu|gov\.cn|"
    # the UN Information Service (Vienna) publishes the CND's decisions as press releases; the
    # Netherlands treaty database is that state's official publication of the treaty texts
    r"unis\.unvienna\.org|wetten\.overheid\.nl",
    re.I,
)
# pages that may stand beside the law, never alone behind it
SECONDARY_ONLY = re.compile(
    r"grokipedia|wikipedia|wiki|wikimili|blekko|museum|smolecule|probsee|docslib|justia|"
    r"casetext|vlex|lawserver|elaws|chemicalbook|druglead|drugwiki|pharmacyfreak|everything2",
    re.I,
)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return read_registry(ROOT)


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold().replace("α", "alpha").replace("β", "beta"))


def _list_files() -> list[Path]:
    return sorted(LISTS.glob("*.csv"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _gap(section: str) -> set[str]:
    return set(GAPS.get(section, {}).get("items", []))


def test_every_jurisdiction_has_its_lists() -> None:
    found = {p.name.split("-", 1)[0].upper() for p in _list_files()}
    assert {"UN", "US", "UK", "CN", "EU"} - found == _gap("jurisdictions_without_list")


@pytest.mark.parametrize("path", _list_files(), ids=lambda p: p.stem)
def test_every_opioid_of_the_list_is_in_the_registry_with_an_act_there(
    path: Path, registry: Registry
) -> None:
    code = path.name.split("-", 1)[0].upper()
    rows = _rows(path)
    assert rows, f"{path.name} is empty"
    assert all(r["source"].strip() for r in rows), f"{path.name}: a row without its source"
    subs = {s.key: s for s in registry.substances}
    acted = {(a.substance, a.jurisdiction) for a in registry.actions if a.kind != "removal"}
    dated = {(a.substance, a.jurisdiction, a.effective_date.isoformat()) for a in registry.actions}
    missing, closed = [], []
    for n, r in enumerate(rows, start=2):
        if r["opioid"] != "true":
            assert r["opioid"] == "false", f"{path.name}:{n}: opioid must be true or false"
            continue
        s = subs.get(r["key"])
        lacks = s is None or (s.key, code) not in acted
        if r.get("gap"):
            if not lacks:
                closed.append(f"{path.name}:{n} {r['entry']}: in the registry now; clear its gap")
            continue
        if s is None:
            missing.append(f"{path.name}:{n} {r['entry']}: no substance {r['key']!r}")
            continue
        if (s.key, code) not in acted:
            missing.append(f"{path.name}:{n} {r['entry']}: {s.key} has no act in {code}")
        elif r.get("effective_date") and (s.key, code, r["effective_date"]) not in dated:
            missing.append(f"{path.name}:{n} {r['entry']}: no {code} act of {s.key} on {r['effective_date']}")
        # the entry is the substance: by one of its names, or (for a list that prints systematic
        # names) by the connectivity of the structure OPSIN reads from the printed name
        names = {_norm(x) for x in (s.name, s.key, *s.synonyms)}
        if r.get("connectivity"):
            if r["connectivity"] != s.identity.connectivity:
                missing.append(f"{path.name}:{n} {r['entry']}: the printed name is not {s.key}")
        elif _norm(r["entry"]) not in names:
            missing.append(f"{path.name}:{n} {r['entry']}: not a name or synonym of {s.key}")
    assert missing == []
    assert closed == []


def test_acts_cite_the_law(registry: Registry) -> None:
    """Every act cites the legal text or its official publisher, or says why it cannot."""
    weak = []
    for a in registry.actions:
        if a.source_kind == "primary" and OFFICIAL.search(a.source):
            continue
        if a.source_kind == "secondary" and len(a.why_no_primary) >= 20:
            continue
        weak.append(f"{a.where} {a.substance} {a.jurisdiction}: {a.source_kind or 'no source_kind'}")
    assert weak == []


def test_secondary_pages_never_stand_as_the_primary_source(registry: Registry) -> None:
    bad = [
        f"{a.where} {a.substance}: {part}"
        for a in registry.actions
        if a.source_kind == "primary"
        for part in a.source.split(" ; ")
        if SECONDARY_ONLY.search(part) and not OFFICIAL.search(part)
    ]
    assert bad == []


def test_class_acts_cite_the_law() -> None:
    weak = []
    for path in sorted((ROOT / "classes").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for i, act in enumerate(data["actions"]):
            if not OFFICIAL.search(act["source"]):
                weak.append(f"{path.name} actions[{i}] {act['citation']}")
    assert weak == []


def test_no_two_rows_state_one_act_differently(registry: Registry) -> None:
    """One act (substance, jurisdiction, citation) has one date and one schedule; a substance is
    placed permanently in a schedule once, unless removed in between."""
    by_act: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
    for a in registry.actions:
        by_act[(a.substance, a.jurisdiction, a.citation.strip())].add(
            (a.effective_date.isoformat(), a.schedule)
        )
    contradictions = [f"{k}: {sorted(v)}" for k, v in by_act.items() if len(v) > 1]
    placed: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    removals: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in registry.actions:
        if a.kind == "permanent":
            placed[(a.substance, a.jurisdiction, a.schedule)].append(a.effective_date.isoformat())
        elif a.kind == "removal":
            removals[(a.substance, a.jurisdiction)].append(a.effective_date.isoformat())
    for (sub, code, schedule), days in placed.items():
        days.sort()
        for first, second in zip(days, days[1:], strict=False):
            if not any(first < r <= second for r in removals[(sub, code)]):
                contradictions.append(f"{sub} {code} {schedule}: placed permanently on {first} and {second}")
    assert contradictions == []


def test_every_substance_has_an_act(registry: Registry) -> None:
    acted = {a.substance for a in registry.actions}
    assert {s.key for s in registry.substances if s.key not in acted} == _gap("substances_without_act")


def test_every_nps_has_a_first_report(registry: Registry) -> None:
    reported = {p.substance for p in registry.appearances}
    lacking = {s.key for s in registry.substances if s.nps and s.key not in reported}
    assert lacking == _gap("nps_without_first_report")


def test_a_catalogue_in_force_date_is_never_the_day_of_control(registry: Registry) -> None:
    """China's 2013 catalogues took effect on 1 January 2014; they show control by then."""
    wrong = [
        a.where
        for a in registry.actions
        if a.jurisdiction == "CN" and a.effective_date.isoformat() == "2014-01-01" and a.kind != "listed_by"
    ]
    assert wrong == []


def test_us_acts_carry_their_dea_code(registry: Registry) -> None:
    """A DEA code is four digits, one per substance, the one the DEA code list gives its name."""
    bad = [a.where for a in registry.actions if a.code and not re.fullmatch(r"\d{4}", a.code)]
    assert bad == []
    codes: dict[str, set[str]] = defaultdict(set)
    for a in registry.actions:
        if a.jurisdiction == "US" and a.code:
            codes[a.substance].add(a.code)
    assert {k: v for k, v in codes.items() if len(v) > 1} == {}
    subs = {s.key: s for s in registry.substances}
    disagree = [
        f"{k}: code {sorted(v)} but synonym {syn}"
        for k, v in codes.items()
        for syn in subs[k].synonyms
        if re.fullmatch(r"DEA \d{4}", syn) and syn[4:] not in v
    ]
    assert disagree == []
    without = {
        a.substance
        for a in registry.actions
        if a.jurisdiction == "US" and a.kind != "removal" and not a.code
    }
    assert without == _gap("us_acts_without_code")


def test_structures_are_confirmed_by_opsin_or_a_public_inchikey(registry: Registry) -> None:
    """Every structure has a systematic name (checked by OPSIN elsewhere) or a PubChem/GSRS key."""
    unconfirmed = {s.key for s in registry.substances if not s.systematic_name and not s.stated_inchikey}
    assert unconfirmed == _gap("unconfirmed_structures")


STRUCTURE_SOURCE = re.compile(
    r"pubchem|gsrs|ncats|who\.int|federalregister\.gov|govinfo\.gov|ecfr\.gov|legislation\.gov\.uk|"
    r"unodc\.org|wetten\.overheid\.nl|eur-lex\.europa\.eu|gov\.cn",
    re.I,
)


def test_structures_cite_pubchem_gsrs_an_inn_list_or_the_legal_text(registry: Registry) -> None:
    weak = {s.key for s in registry.substances if not STRUCTURE_SOURCE.search(s.source)}
    assert weak == _gap("structures_without_primary_source")


def test_the_file_table_in_the_readme_is_current(registry: Registry) -> None:
    from service.registry.service import files_markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- registry-stats -->\n", "<!-- /registry-stats -->"
    assert start in readme and end in readme
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == files_markdown(registry), "run `analogwatch registry stats --markdown`"


def test_us_acts_carry_a_dea_code_the_us_list_gives_their_substance(registry: Registry) -> None:
    """A US list row names its DEA code; every US act of that substance carries one of its rows' codes."""
    rows = [r for p in _list_files() if p.name.startswith("us-") for r in _rows(p)]
    assert rows, "no US list"
    seen: dict[str, int] = defaultdict(int)
    codes: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        assert re.fullmatch(r"\d{4}", r["code"]), f"{r['entry']}: DEA code {r['code']!r}"
        seen[r["code"]] += 1
        if r["opioid"] == "true" and r["key"]:
            codes[r["key"]].add(r["code"])
    assert {c: n for c, n in seen.items() if n > 1} == {}
    wrong = [
        f"{a.where} {a.substance}: code {a.code or '(none)'}, list gives {sorted(codes[a.substance])}"
        for a in registry.actions
        if a.jurisdiction == "US" and a.kind != "removal" and a.substance in codes
        and a.code not in codes[a.substance]
    ]
    assert wrong == []
