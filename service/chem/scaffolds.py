"""Scaffolds a series is built on: the ring systems of a molecule and the linkers between them.

A series of designer drugs keeps its scaffold and changes what hangs on it (brorphine keeps
bezitramide's piperidinyl-benzimidazolone and swaps the chain on the piperidine). The *cores*
of a molecule are the parts of its Bemis-Murcko framework (side chains stripped, exocyclic
double bonds kept) that join two or more of its ring systems: every node of RDKit's scaffold
network (rings removed one ring system at a time), stripped of dangling linker atoms again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold, rdScaffoldNetwork


@dataclass(frozen=True, slots=True)
class Core:
    """A scaffold of two or more ring systems: canonical SMILES, molecule, heavy atoms."""

    smiles: str
    mol: Any
    size: int


def _network_params() -> Any:
    params: Any = rdScaffoldNetwork.ScaffoldNetworkParams()  # its stubs type flags wrongly
    params.includeGenericScaffolds = False
    params.includeGenericBondScaffolds = False
    params.includeScaffoldsWithAttachments = False
    params.includeScaffoldsWithoutAttachments = True
    params.keepOnlyFirstFragment = False
    return params


_PARAMS = _network_params()
_MURCKO: Any = MurckoScaffold.GetScaffoldForMol


def ring_systems(mol: Any) -> int:
    """How many ring systems (rings sharing an atom count as one) the molecule has."""
    systems: list[set[int]] = []
    for ring in mol.GetRingInfo().AtomRings():
        merged = set(ring)
        for s in [s for s in systems if s & merged]:
            merged |= s
            systems.remove(s)
        systems.append(merged)
    return len(systems)


def framework(mol: Any) -> Any:
    """The Bemis-Murcko framework: ring systems and linkers, side chains stripped."""
    return _MURCKO(mol)


def cores(mol: Any, min_atoms: int) -> tuple[Core, ...]:
    """The molecule's cores of at least `min_atoms` heavy atoms, largest first (none for a
    molecule of fewer than two ring systems)."""
    frame = framework(Chem.RemoveHs(mol))
    if ring_systems(frame) < 2:
        return ()
    network = rdScaffoldNetwork.CreateScaffoldNetwork([frame], _PARAMS)
    found: dict[str, Core] = {}
    for smiles in network.nodes:
        node = Chem.MolFromSmiles(smiles)
        if node is None:  # pragma: no cover - the network writes what RDKit reads
            continue
        part = framework(node)
        size = part.GetNumHeavyAtoms()
        if size < min_atoms or ring_systems(part) < 2:
            continue
        key = Chem.MolToSmiles(part)
        found.setdefault(key, Core(smiles=key, mol=part, size=size))
    return tuple(sorted(found.values(), key=lambda c: (-c.size, c.smiles)))
