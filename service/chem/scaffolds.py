"""Scaffolds a series is built on: the ring systems of a molecule and the linkers between them.

A series of designer drugs keeps its scaffold and changes what hangs on it (brorphine keeps
bezitramide's piperidinyl-benzimidazolone and swaps the chain on the piperidine). The *cores*
of a molecule are the parts of its Bemis-Murcko framework (side chains stripped, exocyclic
double bonds kept) that join two or more of its ring systems: for every set of two or more
of them joined without the others, the framework with the others removed and the linker
stubs they leave stripped (the multi-ring nodes of RDKit's scaffold network, found directly).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold


@dataclass(frozen=True, slots=True)
class Core:
    """A scaffold of two or more ring systems: canonical SMILES, molecule, heavy atoms."""

    smiles: str
    mol: Any
    size: int


_MURCKO: Any = MurckoScaffold.GetScaffoldForMol


def _systems(mol: Any) -> list[set[int]]:
    """The atoms of each ring system (rings sharing an atom are one system)."""
    systems: list[set[int]] = []
    for ring in mol.GetRingInfo().AtomRings():
        merged = set(ring)
        for s in [s for s in systems if s & merged]:
            merged |= s
            systems.remove(s)
        systems.append(merged)
    return systems


def ring_systems(mol: Any) -> int:
    """How many ring systems (rings sharing an atom count as one) the molecule has."""
    return len(_systems(mol))


def framework(mol: Any) -> Any:
    """The Bemis-Murcko framework: ring systems and linkers, side chains stripped."""
    return _MURCKO(mol)


def cores(mol: Any, min_atoms: int) -> tuple[Core, ...]:
    """The molecule's cores of at least `min_atoms` heavy atoms, largest first (none for a
    molecule of fewer than two ring systems). Stereo is left out: a scaffold is a shape."""
    frame = framework(Chem.RemoveHs(mol))
    Chem.RemoveStereochemistry(frame)
    systems = _systems(frame)
    found: dict[str, Core] = {}
    for r in range(2, len(systems) + 1):
        for keep in combinations(range(len(systems)), r):
            part = _keep(frame, systems, keep)
            if part is None or part.GetNumHeavyAtoms() < min_atoms:
                continue
            key = Chem.MolToSmiles(part)
            found.setdefault(key, Core(smiles=key, mol=part, size=part.GetNumHeavyAtoms()))
    return tuple(sorted(found.values(), key=lambda c: (-c.size, c.smiles)))


def _keep(frame: Any, systems: list[set[int]], keep: tuple[int, ...]) -> Any | None:
    """The framework with every ring system but `keep` removed and the linker stubs left by
    them stripped, or None when the kept systems are joined only through a removed one."""
    drop = set().union(*(systems[i] for i in range(len(systems)) if i not in keep))
    if not drop:
        return frame
    kept = set().union(*(systems[i] for i in keep))
    edit = Chem.RWMol(frame)
    for atom in edit.GetAtoms():
        atom.SetIntProp("frame_idx", atom.GetIdx())
    for i in drop:
        for nb in edit.GetAtomWithIdx(i).GetNeighbors():
            if nb.GetIdx() in drop:
                continue
            nb.SetNoImplicit(False)  # a carbon refills its hydrogens on sanitizing
            if nb.GetIsAromatic() and nb.GetAtomicNum() != 6:
                nb.SetNumExplicitHs(nb.GetNumExplicitHs() + 1)  # n-R becomes [nH]
    for i in sorted(drop, reverse=True):
        edit.RemoveAtom(i)
    part = edit.GetMol()
    Chem.SanitizeMol(part)
    groups = Chem.GetMolFrags(part)
    holding = [
        n
        for n, g in enumerate(groups)
        if any(part.GetAtomWithIdx(a).GetIntProp("frame_idx") in kept for a in g)
    ]
    if len(holding) != 1:
        return None
    piece = Chem.GetMolFrags(part, asMols=True)[holding[0]]
    stripped = framework(piece)
    for atom in stripped.GetAtoms():
        atom.ClearProp("frame_idx")
    return stripped
