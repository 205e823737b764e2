"""Scaffolds of two or more ring systems (service/chem/scaffolds.py), on named molecules."""

from __future__ import annotations

from rdkit import Chem

from service.chem.scaffolds import cores, framework, ring_systems

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
BEZITRAMIDE = "CCC(=O)n1c(=O)n(C2CCN(CCC(C#N)(c3ccccc3)c3ccccc3)CC2)c2ccccc21"


def smiles(text: str) -> list[tuple[str, int]]:
    return [(c.smiles, c.size) for c in cores(Chem.MolFromSmiles(text), min_atoms=0)]


def test_ring_systems_count_fused_rings_once() -> None:
    assert ring_systems(Chem.MolFromSmiles("c1ccc2ccccc2c1")) == 1  # naphthalene
    assert ring_systems(Chem.MolFromSmiles(FENTANYL)) == 3
    morphine = "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5"
    assert ring_systems(Chem.MolFromSmiles(morphine)) == 1


def test_the_framework_strips_side_chains_and_keeps_exocyclic_double_bonds() -> None:
    assert Chem.MolToSmiles(framework(Chem.MolFromSmiles(FENTANYL))) == (
        "c1ccc(CCN2CCC(Nc3ccccc3)CC2)cc1"
    )
    assert Chem.MolToSmiles(framework(Chem.MolFromSmiles(BEZITRAMIDE))) == (
        "O=c1[nH]c2ccccc2n1C1CCN(CCC(c2ccccc2)c2ccccc2)CC1"
    )


def test_cores_are_every_part_joining_two_ring_systems_largest_first() -> None:
    # fentanyl: the whole framework, and each pair of neighbouring ring systems with their
    # linker; never one ring system alone
    assert smiles(FENTANYL) == [
        ("c1ccc(CCN2CCC(Nc3ccccc3)CC2)cc1", 21),
        ("c1ccc(CCN2CCCCC2)cc1", 14),
        ("c1ccc(NC2CCNCC2)cc1", 13),
    ]
    found = smiles(BEZITRAMIDE)
    assert found[0] == ("O=c1[nH]c2ccccc2n1C1CCN(CCC(c2ccccc2)c2ccccc2)CC1", 31)
    # the piperidinyl-benzimidazolone brorphine carries, stripped of the linker stub
    assert ("O=c1[nH]c2ccccc2n1C1CCNCC1", 16) in found
    assert [size for _, size in found] == sorted((size for _, size in found), reverse=True)


def test_one_ring_system_has_no_core() -> None:
    # pethidine: phenyl and piperidine, joined by a bond (12 atoms: below the signal's floor)
    assert smiles("CN1CCC(C(=O)OCC)(c2ccccc2)CC1") == [("c1ccc(C2CCNCC2)cc1", 12)]
    assert smiles("CCO") == []
    levorphanol = "CN1CC[C@]23CCCC[C@H]2[C@H]1Cc1ccc(O)cc13"
    assert smiles(levorphanol) == []
