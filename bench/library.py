"""A deterministic combinatorial library of drug-like structures, as large as asked.

    python bench/library.py N OUT.smi

Each structure is a scaffold with four substituent slots; a slot is empty (hydrogen) or
holds one of the groups below. Scaffolds mix opioid chemotypes (anilidopiperidines,
benzimidazoles, cyclohexyl benzamides, acyl piperazines), their near relatives and common
drug-like cores, so a screen meets every verdict: registry entries' close analogs, class
members, near misses and a large majority of unrelated compounds. The i-th structure
decodes a pseudo-random permutation of the scaffold x slot grid, so any prefix is spread
over the whole grid and the stream needs no memory: a million lines are written in a few
seconds, without RDKit (a small share of combinations that RDKit rejects is a realistic
share of bad records).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path

# {0}..{3}: substituent slots, written as branches "(X)" or nothing
SCAFFOLDS = [
    # anilidopiperidines (fentanyl-like) and relatives
    "CCC(=O)N(c1cc{0}ccc1{1})C1CCN(CC{2}c2ccc{3}cc2)CC1",
    "CC(=O)N(c1ccc{0}cc1)C1C{2}CN(CCc2cc{1}cs2)CC1{3}",
    "O=C(C1CC1)N(c1cccc{0}c1)C1CCN(CCc2ccc{1}cc2{2})CC1{3}",
    "COCC(=O)N(c1ccc{0}cc1{1})C1CCN(CC{2}c2cccc{3}c2)CC1",
    "CCC(=O)N(c1ccccc1{0})C1(C(=O)OC)CCN(CCc2ccc{1}cc2{2})C{3}C1",
    "O=C(c1ccco1)N(c1ccc{0}cc1)C1CCN(CCc2cc{1}ccc2{2})CC1{3}",
    "CCCC(=O)N(c1ccc{0}c{1}c1)C1CCN(Cc2ccc{2}cc2{3})CC1",
    # 2-benzylbenzimidazoles (nitazene-like)
    "CCN(CC)CCn1c(Cc2ccc(OCC)cc2{0})nc2c{3}c{1}c{2}cc21",
    "CCCOc1cc{2}c(Cc2nc3cc{0}ccc3n2CCN2CCCC2{1})cc1{3}",
    "CN(C)CCn1c(Cc2ccc{0}cc2{1})nc2cc{2}cc{3}c21",
    "CCN(CC)CCn1c(Cc2ccc{0}cc2{3})nc2c{1}c([N+](=O)[O-])c{2}cc21",
    # cyclohexyl benzamides (U-series-like) and acyl piperazines (AP-237-like)
    "CN(C)C1CCCCC1N(C{0})C(=O)c1cc{3}c{1}c{2}c1",
    "CCN(CC)C1CCC{0}CC1N(C)C(=O)c1cc{1}c{2}cc1{3}",
    "CN(C)C1(CNC(=O)c2ccc{0}c{1}c2)CCC{2}CC1{3}",
    "CCCC(=O)N1CCN(C/C=C/c2ccc{0}cc2{1})C{2}C1{3}",
    "CCC(=O)N1CC{2}N(CC=Cc2cc{0}cc{1}c2)CC1{3}",
    # benzimidazolones, diphenylethylpiperazines, phenylpiperidines
    "O=c1n(C2CCN(C(C)Cc3ccc{0}cc3{3})CC2)c2ccc{1}cc2n1C{2}",
    "C1CN(C2CCCCC2{0})CCN1C(Cc1ccc{1}cc1)c1ccc{2}cc1{3}",
    "CCOC(=O)C1(c2ccc{0}cc2{1})CCN(C{2})CC1{3}",
    "CCC(=O)OC1(c2cc{1}cc{0}c2)CCN(C{2})CC1{3}",
    # common drug-like cores
    "O=C(Nc1ccc{0}cc1{1})c1ccc{2}nc1{3}",
    "CS(=O)(=O)Nc1cc{2}c(C(=O)N2CCC{0}CC2{3})cc1{1}",
    "O=C(c1ccc{0}cc1)N1CC{2}N(c2ncc{1}cn2)CC1{3}",
    "c1cc{2}c2[nH]c(-c3ccc{0}cc3{1})nc2c1{3}",
    "O=C1CC{2}c2cc{0}ccc2N1Cc1ccc{1}cc1{3}",
    "CC(C)(C)OC(=O)NC1CC{2}N(c2ncc{0}c{1}n2)CC1{3}",
    "Cc1nc2cc{2}c{0}cc2c(=O)n1-c1cc{3}ccc1{1}",
    "O=C(O)c1cc{2}ccc1Nc1cc{3}cc{0}c1{1}",
    "COc1cc{2}c(CCN2CCC(O)(c3ccc{0}cc3{3})CC2)cc1{1}",
    "C{3}n1c{2}nc2c1c(=O)n(C{0})c(=O)n2C{1}",
    "c1cc{2}c(-c2nc{0}c(-c3ccc{1}cc3)o2)cc1{3}",
    "O=C(NCc1cc{2}co1)c1cc{0}c{1}cc1{3}",
    "NC(=O)c1cc{2}cc(Oc2ccc{0}cc2{1})c1{3}",
    "CC(NC(=O)c1cc{2}c{0}s1)c1ccc{1}cc1{3}",
    "O=C(CN1CCOC{2}C1)Nc1cc{3}c{0}cc1{1}",
    "CC(=O)Nc1cc{2}c(S(=O)(=O)N2CCC{0}C2{3})cc1{1}",
]
GROUPS = [
    "",  # hydrogen: no branch
    "F",
    "Cl",
    "Br",
    "C",
    "CC",
    "C(C)C",
    "OC",
    "OCC",
    "O",
    "N",
    "N(C)C",
    "C#N",
    "C(F)(F)F",
    "OC(F)(F)F",
    "[N+](=O)[O-]",
    "C(=O)OC",
    "C(N)=O",
    "S(C)(=O)=O",
    "C=C",
    "CO",
    "C1CC1",
    "SC",
    "C(C)=O",
]
SLOTS = 4


def size() -> int:
    """Structures in the whole grid."""
    return len(SCAFFOLDS) * len(GROUPS) ** SLOTS


def _step(total: int) -> int:
    """A stride coprime with the grid size: i -> i * stride mod total is a permutation."""
    stride = int(total * 0.6180339887) | 1
    while math.gcd(stride, total) != 1:
        stride += 2
    return stride


def structure(i: int) -> str:
    """The i-th structure of the permuted grid (0 <= i < size())."""
    total = size()
    k = (i * _step(total)) % total
    k, scaffold = divmod(k, len(SCAFFOLDS))
    picks = []
    for _ in range(SLOTS):
        k, g = divmod(k, len(GROUPS))
        picks.append(f"({GROUPS[g]})" if GROUPS[g] else "")
    return SCAFFOLDS[scaffold].format(*picks)


def library(n: int) -> Iterator[str]:
    """The first n structures (n <= size())."""
    if not 0 <= n <= size():
        raise ValueError(f"n must be between 0 and {size():,}")
    return (structure(i) for i in range(n))


def write_smi(n: int, path: Path) -> None:
    """Write n structures as a .smi file: SMILES, a space, the identifier lib-<i>."""
    with path.open("w") as f:
        for i, smi in enumerate(library(n)):
            f.write(f"{smi} lib-{i}\n")


if __name__ == "__main__":
    write_smi(int(sys.argv[1]), Path(sys.argv[2]))
