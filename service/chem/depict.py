"""SVG depictions with highlighted atoms (a class core, or the common substructure)."""

from __future__ import annotations

from collections.abc import Sequence

from rdkit import Chem
from rdkit.Chem import rdFMCS
from rdkit.Chem.Draw import rdMolDraw2D

MCS_TIMEOUT_S = 1


def svg(
    mol: Chem.Mol, highlight: Sequence[int] = (), *, width: int = 360, height: int = 260
) -> str:
    """Draw a molecule as SVG, highlighting the given atoms and the bonds between them.

    No text from the caller is drawn: only atom labels, so the SVG is safe to embed.
    """
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    opts = drawer.drawOptions()
    opts.clearBackground = False  # type: ignore[assignment]  # the RDKit stub mistypes this bool
    atoms = sorted({int(i) for i in highlight if 0 <= int(i) < mol.GetNumAtoms()})
    chosen = set(atoms)
    bonds = [
        b.GetIdx()
        for b in mol.GetBonds()
        if b.GetBeginAtomIdx() in chosen and b.GetEndAtomIdx() in chosen
    ]
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol, highlightAtoms=atoms, highlightBonds=bonds)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def common_atoms(query: Chem.Mol, other: Chem.Mol, *, timeout: int = MCS_TIMEOUT_S) -> list[int]:
    """Atoms of `query` in its maximum common substructure with `other` (bounded in time)."""
    res = rdFMCS.FindMCS(
        [query, other],
        timeout=timeout,
        ringMatchesRingOnly=True,
        completeRingsOnly=True,
    )
    if not res.smartsString:
        return []
    patt = Chem.MolFromSmarts(res.smartsString)
    match = query.GetSubstructMatch(patt) if patt is not None else ()
    return list(match)
