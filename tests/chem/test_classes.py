"""Class-wide (generic) definitions: schema validation and structural matching.

Every ``schedules/classes/*.toml`` must validate, and each of its documented examples must
come out exactly as documented (member or not, the clause set, near miss, parent).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from rdkit import Chem
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from service.chem.classes import (
    ClassMatch,
    ClassRulesError,
    compile_class,
    match_smiles,
    validate_rules,
)
from service.chem.standardize import parent, parse_smiles

CLASSES_DIR = Path(__file__).resolve().parents[2] / "schedules" / "classes"
TOML_FILES = sorted(CLASSES_DIR.glob("*.toml"))

TOP_REQUIRED = {
    "key",
    "jurisdiction",
    "name",
    "schedule",
    "source",
    "legal_text",
    "actions",
    "rules",
    "examples",
}
TOP_ALLOWED = TOP_REQUIRED | {"notes"}
ACTION_REQUIRED = {"kind", "effective_date", "citation", "source"}
ACTION_ALLOWED = ACTION_REQUIRED | {"end_date", "notes", "schedule"}
EXAMPLE_REQUIRED = {"name", "smiles", "member", "source"}
EXAMPLE_ALLOWED = EXAMPLE_REQUIRED | {
    "clauses",
    "near_miss",
    "near_miss_reason",
    "is_parent",
    "formula",
    "systematic_name",
    "notes",
}
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


DATA = {path.stem: _load(path) for path in TOML_FILES}
COMPILED = {key: compile_class(doc["key"], doc["rules"]) for key, doc in DATA.items()}
EXAMPLES = [
    pytest.param(key, example, id=f"{key}:{example['name']}")
    for key, doc in DATA.items()
    for example in doc["examples"]
]


def _match(key: str, smiles: str) -> ClassMatch:
    return COMPILED[key].match(parent(parse_smiles(smiles)))


# --------------------------------------------------------------------------- files


def test_expected_class_files_exist() -> None:
    assert {"us-frs", "cn-frs", "uk-nitazenes"} <= set(DATA)


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.stem)
def test_file_shape(path: Path) -> None:
    doc = DATA[path.stem]
    assert doc["key"] == path.stem
    assert set(doc) >= TOP_REQUIRED
    assert set(doc) <= TOP_ALLOWED
    assert doc["legal_text"].strip() != ""
    for action in doc["actions"]:
        assert set(action) >= ACTION_REQUIRED
        assert set(action) <= ACTION_ALLOWED
        assert action["kind"] in {"temporary", "extension", "permanent", "removal"}
        assert DAY.match(action["effective_date"])
        if "end_date" in action:
            assert DAY.match(action["end_date"])
            assert action["end_date"] >= action["effective_date"]
    names = [e["name"] for e in doc["examples"]]
    assert len(names) == len(set(names))
    for example in doc["examples"]:
        assert set(example) >= EXAMPLE_REQUIRED
        assert set(example) <= EXAMPLE_ALLOWED


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.stem)
def test_rules_validate(path: Path) -> None:
    assert validate_rules(DATA[path.stem]["rules"]) == []


def test_each_file_documents_members_non_members_and_near_misses() -> None:
    for key, doc in DATA.items():
        kinds = {(e["member"], e.get("near_miss", False)) for e in doc["examples"]}
        assert (True, False) in kinds, key
        assert (False, False) in kinds, key
        assert (False, True) in kinds, key


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(("key", "example"), EXAMPLES)
def test_example_matches_as_documented(key: str, example: dict[str, Any]) -> None:
    result = _match(key, example["smiles"])
    assert result.key == key
    assert result.member is example["member"]
    assert result.near_miss is example.get("near_miss", False)
    assert result.is_parent is example.get("is_parent", False)
    if example["member"]:
        assert result.clause_keys == frozenset(example["clauses"])
        assert result.near_miss_reason is None
    if example.get("near_miss"):
        assert example["near_miss_reason"] in result.near_miss_reason
    if not example["member"] and not example.get("near_miss") and not example.get("is_parent"):
        assert result.core_atoms == ()
        assert result.clauses == ()


@pytest.mark.parametrize(("key", "example"), EXAMPLES)
def test_example_formula(key: str, example: dict[str, Any]) -> None:
    mol = parent(parse_smiles(example["smiles"]))
    assert CalcMolFormula(mol) == example["formula"]


def _opsin_available() -> bool:
    try:
        import py2opsin  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


@pytest.fixture(scope="module")
def opsin_structures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Convert every example's systematic name with OPSIN in one call (a private temp file:
    py2opsin's default temp file name is shared by everyone working in the same directory)."""
    from py2opsin import py2opsin

    names = sorted({e["systematic_name"] for doc in DATA.values() for e in doc["examples"]})
    tmp = tmp_path_factory.mktemp("opsin") / "names.txt"
    smiles = py2opsin(names, tmp_fpath=str(tmp))
    assert isinstance(smiles, list)
    assert len(smiles) == len(names)
    return dict(zip(names, smiles, strict=True))


@pytest.mark.skipif(not _opsin_available(), reason="OPSIN (py2opsin + java) not available")
@pytest.mark.parametrize(("key", "example"), EXAMPLES)
def test_example_systematic_name_gives_the_structure(
    key: str, example: dict[str, Any], opsin_structures: dict[str, str]
) -> None:
    smiles = opsin_structures[example["systematic_name"]]
    assert smiles, example["systematic_name"]
    by_name = Chem.MolToInchiKey(parent(parse_smiles(smiles)))[:14]
    by_smiles = Chem.MolToInchiKey(parent(parse_smiles(example["smiles"])))[:14]
    assert by_name == by_smiles


# --------------------------------------------------------------------------- US FRS


def test_us_furanylfentanyl_is_clause_e() -> None:
    result = _match("us-frs", "O=C(c1ccco1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")
    assert result.member is True
    assert result.clause_keys == frozenset({"E"})
    (hit,) = result.clauses
    assert hit.description == ("By replacement of the N-propionyl group with another acyl group.")


def test_us_3_methylthiofentanyl_is_clauses_a_and_c() -> None:
    result = _match("us-frs", "CCC(=O)N(c1ccccc1)C1CCN(CCc2cccs2)CC1C")
    assert result.member is True
    assert result.clause_keys == frozenset({"A", "C"})


def test_us_clause_atoms_point_at_the_modification() -> None:
    # acetyl fentanyl as written: atoms 0-2 are the acetyl group C(=O)C.
    result = COMPILED["us-frs"].match(parse_smiles("CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"))
    assert [(h.key, h.atoms) for h in result.clauses] == [("E", (0, 1, 2))]
    # core: anilide N (3) and the piperidine ring (10-13, 22, 23; N13).
    assert result.core_atoms == (3, 10, 11, 12, 13, 22, 23)


def test_us_fentanyl_is_the_parent_not_a_member() -> None:
    result = _match("us-frs", "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")
    assert result == ClassMatch(
        key="us-frs", member=False, core_atoms=result.core_atoms, is_parent=True
    )
    assert len(result.core_atoms) == 7


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        (
            "CCC(=O)N(c1cccc2ccccc12)C1CCN(CCc2ccccc2)CC1",
            "aniline ring: a ring system of 2 rings replaces the ring; the clause requires a "
            "monocycle",
        ),
        (
            "CCC(=O)N(C1CCCCC1)C1CCN(CCc2ccccc2)CC1",
            "aniline ring: the replacing ring is not aromatic; the clause requires an aromatic "
            "monocycle",
        ),
        (
            "CCC(=O)N(c1ccccc1)C1CCN(CCCc2ccccc2)CC1",
            "phenethyl group: the ring is joined to the core through 3 linker atoms; the parent "
            "has 2",
        ),
        (
            "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1CO",
            "piperidine ring: substituent *CO is not one of alkyl, alkenyl, alkoxyl, ester, "
            "ether, hydroxyl, halo, haloalkyl, amino, nitro",
        ),
        (
            "CCS(=O)(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "N-propionyl group: *S(=O)(=O)CC is not one of acyl, alkoxycarbonyl",
        ),
        (
            "CN(C)C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "N-propionyl group: *C(=O)N(C)C is not one of acyl, alkoxycarbonyl",
        ),
        (
            "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc3OCOc3c2)CC1",
            "phenethyl group ring: a ring system of 2 rings replaces the ring; the clause "
            "requires a monocycle",
        ),
        (
            "CCC(=O)N(c1ccccc1)C1CCN(CC(=O)c2ccccc2)CC1",
            "phenethyl group: the 2-atom linker to the ring is not a saturated acyclic carbon "
            "chain",
        ),
    ],
)
def test_us_near_misses(smiles: str, reason: str) -> None:
    result = _match("us-frs", smiles)
    assert result.member is False
    assert result.near_miss is True
    assert result.near_miss_reason == reason


def test_us_ring_closed_onto_the_core_is_a_near_miss() -> None:
    result = _match("us-frs", "CCC(=O)N(c1ccccc1)C1CC2CCC(C1)N2CCc1ccccc1")
    assert result.near_miss is True
    assert result.near_miss_reason.startswith("a ring is closed onto the core")


def test_us_substituted_phenyl_outside_b_is_a_with_an_ambiguity_note() -> None:
    result = _match("us-frs", "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc(C#N)cc2)CC1")
    assert result.member is True
    assert result.clause_keys == frozenset({"A"})
    assert len(result.notes) == 1
    assert "legal ambiguity" in result.notes[0]


def test_us_phenyl_with_b_groups_only_is_b_without_note() -> None:
    result = _match("us-frs", "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc(F)cc2)CC1")
    assert result.clause_keys == frozenset({"B"})
    assert result.notes == ()


def test_us_several_clauses_at_once() -> None:
    # 4-fluoro on the aniline ring (D), 3-methyl (C), thienyl (A), beta-OH (B), acetyl (E).
    result = _match("us-frs", "CC(=O)N(c1ccc(F)cc1)C1CCN(CC(O)c2cccs2)CC1C")
    assert result.member is True
    assert result.clause_keys == frozenset({"A", "B", "C", "D", "E"})


def test_us_non_fentanyl_molecule_costs_only_the_prefilter() -> None:
    result = _match("us-frs", "CC(=O)Oc1ccccc1C(=O)O")
    assert result == ClassMatch(key="us-frs", member=False)


# --------------------------------------------------------------------------- China


def test_cn_clause_4_takes_any_group_but_hydrogen() -> None:
    assert _match("cn-frs", "CCC(=O)N(c1ccccc1)C1CCN(C)CC1").clause_keys == frozenset({"4"})
    assert _match("cn-frs", "CCC(=O)N(c1ccccc1)C1CCN(CCCc2ccccc2)CC1").member is True
    norfentanyl = _match("cn-frs", "CCC(=O)N(c1ccccc1)C1CCNCC1")
    assert norfentanyl.member is False
    assert norfentanyl.near_miss is True


def test_cn_and_us_differ_on_benzylfentanyl() -> None:
    smiles = "CCC(=O)N(c1ccccc1)C1CCN(Cc2ccccc2)CC1"
    assert _match("us-frs", smiles).near_miss is True
    cn = _match("cn-frs", smiles)
    assert cn.member is True
    assert cn.clause_keys == frozenset({"4"})


# --------------------------------------------------------------------------- UK nitazenes

# 2-(2-benzyl-benzimidazol-1-yl)ethanamine with N-substituents R and phenyl substituent X.
_NITAZENE = "{amine}CCn1c(Cc2ccc({x})cc2)nc2ccccc21"


def _uk_nitazene(amine: str, x: str = "[H]") -> ClassMatch:
    return _match("uk-nitazenes", _NITAZENE.format(amine=amine, x=x))


@pytest.mark.parametrize(
    ("amine", "member"),
    [
        ("CN(C)", True),
        ("CCCN", True),  # propyl: three carbon atoms
        ("CC(C)N(C)", True),
        ("C=CCN(CC=C)", True),  # allyl: alkenyl of three carbon atoms
        ("CCCCN", False),  # butyl: four carbon atoms
        ("C=CCCN(C)", False),  # but-3-enyl: four carbon atoms
    ],
)
def test_uk_nitazene_amine_substituents_carry_the_carbon_limit(amine: str, member: bool) -> None:
    result = _uk_nitazene(amine)
    assert result.member is member
    assert result.near_miss is not member
    if member:
        assert result.clause_keys == frozenset({"i"})
    else:
        assert result.near_miss_reason.startswith("nitrogen of the ethanamine: substituent *C")
        assert "is not one of alkyl_c3, alkenyl_c3" in result.near_miss_reason


@pytest.mark.parametrize("ring", ["C1CCN(C1)", "C1CCCN(C1)", "C1COCCN1"])
def test_uk_nitazene_nitrogen_included_in_a_ring_is_clause_i(ring: str) -> None:
    result = _uk_nitazene(ring)
    assert result.member is True
    assert result.clause_keys == frozenset({"i"})
    (hit,) = result.clauses
    assert hit.description.startswith("(i) by substitution at the nitrogen of the ethanamine")


def test_uk_nitazene_ring_through_the_side_chain_is_a_near_miss() -> None:
    # 1-methylpyrrolidin-2-ylmethyl: the ring holds a side-chain carbon as well as the N.
    result = _match("uk-nitazenes", "CN1CCCC1Cn1c(Cc2ccccc2)nc2ccccc21")
    assert result.member is False
    assert result.near_miss is True
    assert result.near_miss_reason.startswith("a ring is closed onto the core")
    assert "join core atoms C5, N1" in result.near_miss_reason


def test_ring_through_atom_is_needed_for_a_ring_on_one_core_atom() -> None:
    rules = copy.deepcopy(DATA["uk-nitazenes"]["rules"])
    rules["regions"][0]["ring_through_atom"] = False
    compiled = compile_class("uk-nitazenes-no-rings", rules)
    result = compiled.match(parent(parse_smiles("CCOc1ccc(Cc2nc3ccccc3n2CCN2CCCC2)cc1")))
    assert result.member is False
    assert result.near_miss is True
    assert result.near_miss_reason.startswith(
        "a ring is closed onto the core (atoms [20, 21, 22, 23] join core atoms N19)"
    )


@pytest.mark.parametrize(
    ("x", "member"),
    [
        ("OCCCCC", True),  # pentyloxy: alkoxy of five carbon atoms
        ("OCCCCCC", False),  # hexyloxy: six
        ("CCCCCC", True),  # hexyl: alkyl of six carbon atoms
        ("OC(F)(F)F", True),  # haloalkoxy
        ("C(F)(F)F", True),  # haloalkyl
        ("SC", True),  # thioalkyl
        ("OC(C)=O", True),  # acetyloxy
        ("OC(=O)CC", False),  # propanoyloxy is not acetyloxy
        ("O", True),
        ("C#N", True),
        ("Br", True),
        ("S(C)(=O)=O", False),  # alkylsulphonyl: its limit was not read, not encoded
        ("N", False),  # amino is not in clause (ii)
    ],
)
def test_uk_nitazene_phenyl_substituents_of_clause_ii(x: str, member: bool) -> None:
    result = _uk_nitazene("CCN(CC)", x)
    assert result.member is member
    assert result.near_miss is not member
    if member:
        assert result.clause_keys == frozenset({"i", "ii"})
    else:
        assert result.near_miss_reason.startswith("phenyl ring of the benzyl system: substituent")


def test_uk_nitazene_near_miss_reason_carries_the_partial_text_note() -> None:
    result = _match(
        "uk-nitazenes", "CC(C)Oc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1"
    )  # isotonitazene: 5-nitro on the benzimidazole, outside clauses (i)-(ii)
    assert result.near_miss is True
    assert result.near_miss_reason == (
        "substituent *[N+](=O)[O-] on core atom C13 is not covered by any clause. Note: only "
        "clauses (i) and (ii) of SI 2024/1361 para. 1(ea) were read and encoded; a later "
        "clause of the definition (not read) may cover this modification - legal review needed"
    )
    assert result.clause_keys == frozenset({"i", "ii"})


def test_uk_nitazene_maximum_molecular_mass_of_500() -> None:
    # Five iodines on the phenyl ring: every substituent is a clause (ii) halogen, but the
    # molecule weighs 936.9, more than the definition's 500.
    result = _match("uk-nitazenes", "CCN(CC)CCn1c(Cc2c(I)c(I)c(I)c(I)c2I)nc2ccccc21")
    assert result.member is False
    assert result.near_miss is True
    assert result.near_miss_reason.startswith(
        "molecular mass 936.9 exceeds the definition's maximum of 500. Note:"
    )
    assert result.clause_keys == frozenset({"i", "ii"})
    # Without the limit the same molecule is a member.
    rules = copy.deepcopy(DATA["uk-nitazenes"]["rules"])
    del rules["max_molecular_weight"]
    unlimited = compile_class("uk-nitazenes-no-mass-limit", rules)
    heavy = unlimited.match(parent(parse_smiles("CCN(CC)CCn1c(Cc2c(I)c(I)c(I)c(I)c2I)nc2ccccc21")))
    assert heavy.member is True


def test_uk_nitazene_salt_matches_as_the_free_base() -> None:
    result = _match("uk-nitazenes", "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2ccccc21.Cl")
    assert result.member is True
    assert result.clause_keys == frozenset({"i", "ii"})


def test_uk_nitazene_class_does_not_see_fentanyl_and_frs_classes_do_not_see_nitazenes() -> None:
    fentanyl = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
    assert _match("uk-nitazenes", fentanyl) == ClassMatch(key="uk-nitazenes", member=False)
    etodesnitazene = "CCOc1ccc(Cc2nc3ccccc3n2CCN(CC)CC)cc1"
    for key in ("us-frs", "cn-frs"):
        assert _match(key, etodesnitazene) == ClassMatch(key=key, member=False)


def test_validate_reports_bad_values_of_the_new_keys() -> None:
    rules = copy.deepcopy(DATA["uk-nitazenes"]["rules"])
    rules["groups"]["alkyl_c3"]["max_carbons"] = 0
    rules["groups"]["cyano"]["max_carbons"] = True
    rules["regions"][0]["ring_through_atom"] = "yes"
    rules["near_miss_note"] = 5
    rules["max_molecular_weight"] = "500"
    assert validate_rules(rules) == [
        "rules.groups.alkyl_c3.max_carbons: must be a positive integer",
        "rules.groups.cyano.max_carbons: must be a positive integer",
        "rules.regions[0].ring_through_atom: must be true or false",
        "rules.near_miss_note: must be a string",
        "rules.max_molecular_weight: must be a positive number",
    ]


def test_ring_through_atom_is_only_known_to_substituents_regions(
    us_rules: dict[str, Any],
) -> None:
    us_rules["regions"][0]["ring_through_atom"] = True  # the aniline "ring" region
    assert validate_rules(us_rules) == ["rules.regions[0].ring_through_atom: unknown key"]


# --------------------------------------------------------------------------- salts, charges


@pytest.mark.parametrize(
    "smiles",
    [
        "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.OC(=O)CC(O)(C(=O)O)CC(=O)O",  # citrate
        "CCC(=O)N(c1ccccc1)C1CC[NH+](CCc2ccccc2)CC1.[Cl-]",
        "[2H]C([2H])([2H])CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",  # isotopologue
    ],
)
def test_salts_charged_and_isotopic_fentanyl_are_the_parent(smiles: str) -> None:
    result = _match("us-frs", smiles)
    assert result.is_parent is True
    assert result.member is False


@pytest.mark.parametrize(
    "smiles",
    [
        "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.Cl",
        "CC(=O)N(c1ccccc1)C1CC[NH+](CCc2ccccc2)CC1",
        "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.OC(=O)CC(O)(C(=O)O)CC(=O)O",
    ],
)
def test_salts_and_charged_forms_of_a_member_match(smiles: str) -> None:
    for key, clause in (("us-frs", "E"), ("cn-frs", "1")):
        result = _match(key, smiles)
        assert result.member is True
        assert result.clause_keys == frozenset({clause})


def test_stereoisomers_match_like_the_flat_structure() -> None:
    result = _match("us-frs", "CCC(=O)N(c1ccccc1)[C@@H]1CCN(CCc2ccccc2)C[C@@H]1C")
    assert result.clause_keys == frozenset({"C"})


def test_match_smiles_standardizes() -> None:
    result = match_smiles(COMPILED["us-frs"], "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.Cl")
    assert result.clause_keys == frozenset({"E"})


# --------------------------------------------------------------------------- schema


@pytest.fixture
def us_rules() -> dict[str, Any]:
    return copy.deepcopy(DATA["us-frs"]["rules"])


def test_validate_reports_bad_scaffold_smarts_with_its_path(us_rules: dict[str, Any]) -> None:
    us_rules["scaffold"] = "[#6:1]-[#7X3;!R:"
    assert "rules.scaffold: does not parse as SMARTS" in validate_rules(us_rules)


def test_validate_reports_every_problem_at_once(us_rules: dict[str, Any]) -> None:
    us_rules["groups"]["alkyl"]["atoms"] = "[CX4"
    us_rules["groups"]["halo"]["anchor"] = "[F,Cl]"
    us_rules["regions"][2]["allowed"][0] = "alkly"
    us_rules["regions"][0]["clause"] = "Z"
    us_rules["regions"][3]["at"] = 9
    us_rules["clauses"][1]["key"] = "A"
    us_rules["exclusions"] = [{"name": "x", "smiles": "C1CC", "reason": "r"}]
    us_rules["colour"] = "blue"
    problems = validate_rules(us_rules)
    assert problems == [
        "rules.colour: unknown key",
        "rules.clauses[1].key: duplicate clause key 'A'",
        "rules.groups.alkyl.atoms: does not parse as SMARTS",
        "rules.groups.halo.anchor: must start with the attachment point [#0]",
        "rules.regions[0].clause: unknown clause 'Z'",
        "rules.regions[2].allowed[0]: unknown group 'alkly'",
        "rules.regions[3].at: scaffold has no atom mapped 9",
        # renaming clause B to a duplicate "A" also orphans the regions that use B
        "rules.regions[3].chain_clause: unknown clause 'B'",
        "rules.regions[3].reference_ring_clause: unknown clause 'B'",
        "rules.exclusions[0].smiles: does not parse as SMILES",
    ]


def test_validate_reports_bad_anchor_in_a_list(us_rules: dict[str, Any]) -> None:
    us_rules["groups"]["acyl"]["anchor"][1] = "[#0]-[CX3H1]=[OX1"
    assert validate_rules(us_rules) == ["rules.groups.acyl.anchor[1]: does not parse as SMARTS"]


def test_validate_reports_missing_fields(us_rules: dict[str, Any]) -> None:
    del us_rules["parent"]
    del us_rules["regions"][1]["reference"]
    us_rules["regions"][2]["kind"] = "blob"
    assert validate_rules(us_rules) == [
        "rules.parent: missing",
        "rules.regions[1].reference: missing",
        "rules.regions[2].kind: must be one of group, ring, substituents, chain_ring",
    ]


def test_validate_checks_the_parent_is_unmodified(us_rules: dict[str, Any]) -> None:
    us_rules["parent"] = "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
    assert validate_rules(us_rules) == [
        "rules.parent: is not matched as the unmodified parent (matches with clauses E)"
    ]


def test_validate_rejects_non_table() -> None:
    assert validate_rules(["scaffold"]) == ["rules: must be a table"]


def test_compile_class_raises_with_all_problems(us_rules: dict[str, Any]) -> None:
    us_rules["scaffold"] = "not smarts ("
    us_rules["regions"][0]["clause"] = "Q"
    with pytest.raises(ClassRulesError) as info:
        compile_class("broken", us_rules)
    assert info.value.key == "broken"
    assert info.value.problems == [
        "rules.scaffold: does not parse as SMARTS",
        "rules.regions[0].clause: unknown clause 'Q'",
    ]


def test_exclusions_name_the_excluded_substance(us_rules: dict[str, Any]) -> None:
    us_rules["exclusions"] = [
        {
            "name": "carfentanil",
            "smiles": "CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1",
            "reason": "test: listed in another schedule",
        }
    ]
    compiled = compile_class("us-frs-test", us_rules)
    carfentanil = compiled.match(
        parent(parse_smiles("CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1.Cl"))
    )
    assert carfentanil.member is False
    assert carfentanil.excluded_by == "carfentanil"
    assert carfentanil.clause_keys == frozenset({"C"})
    other = compiled.match(parent(parse_smiles("CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")))
    assert other.member is True
    assert other.excluded_by is None


def test_class_match_is_frozen() -> None:
    result = _match("us-frs", "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.member = False  # type: ignore[misc]
