"""Parse and standardize structures into the parent form the registry keys on.

The parent is what legal lists mean by "the substance": the largest organic fragment
(salts and solvents stripped), neutralized where a neutral form exists, with functional
groups normalized. Stereochemistry and isotopes are kept in the structure; the
connectivity block of the InChIKey ignores them for salt-, stereo- and isotope-insensitive
matching. Tautomers are not canonicalized: the InChI already unifies the mobile-hydrogen
tautomers that matter for these scaffolds, at no extra cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from service.chem import rdlog
from service.chem.errors import StructureError

# built once: constructing them (the normalizer parses its transform list) costs more than
# applying them
_disconnector = rdMolStandardize.MetalDisconnector()
_normalizer = rdMolStandardize.Normalizer()
_METAL = Chem.MolFromSmarts(
    "["
    + ",".join(
        f"#{z}"
        for z in (
            3,
            4,
            11,
            12,
            13,
            19,
            20,
            *range(21, 32),
            37,
            38,
            *range(39, 51),
            55,
            56,
            *range(57, 84),
            87,
            88,
            *range(89, 104),
        )
    )
    + "]"
)
# cheap screen for _METAL: an atom that is none of the common non-metals (most molecules have
# none, and this conjunction fails on an atom's first or second test, where the metal list
# tries all of its ninety alternatives on every carbon)
_UNCOMMON = Chem.MolFromSmarts("[!#1&!#6&!#7&!#8&!#9&!#15&!#16&!#17&!#35&!#53]")
_chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_uncharger = rdMolStandardize.Uncharger()


@dataclass(frozen=True, slots=True)
class Identity:
    """Identity keys of a standardized parent structure."""

    smiles: str
    inchi: str
    inchikey: str
    formula: str

    @property
    def connectivity(self) -> str:
        """First block of the InChIKey: the skeleton without stereo or isotopes."""
        return self.inchikey[:14]


def ascii_only(text: str, what: str) -> None:
    """Structure notations are ASCII; anything else is rejected before RDKit sees it (its
    log would cut a multi-byte character in half)."""
    if not text.isascii():
        pos = next(i for i, c in enumerate(text) if not c.isascii())
        raise StructureError(
            f"{what} contains a non-ASCII character {text[pos]!r} at position {pos + 1}"
        )


def parse_smiles(smiles: str) -> Chem.Mol:
    """Parse a SMILES string; raise StructureError naming where and why RDKit could not."""
    text = smiles.strip()
    if not text:
        raise StructureError("empty structure")
    ascii_only(text, "SMILES")
    with rdlog.captured() as log:
        mol = Chem.MolFromSmiles(text)
    if mol is None:
        raise StructureError(f"SMILES does not parse: {rdlog.reason(log, 'syntax error')}")
    return mol


def parent(mol: Chem.Mol) -> Chem.Mol:
    """Return the standardized parent: cleaned, largest organic fragment, uncharged.

    Raises StructureError when the input has no atoms or no organic fragment.
    """
    if mol.GetNumAtoms() == 0:
        raise StructureError("structure has no atoms")
    with rdlog.captured() as log:
        try:
            # Cleanup's steps, cheapest order: fragment first, then normalize the parent only.
            # No reionization: the uncharger neutralizes what has a neutral form, and free
            # bases (all the registry holds) need nothing more.
            if mol.GetNumAtoms() != mol.GetNumHeavyAtoms():  # explicit hydrogen atoms
                mol = Chem.RemoveHs(mol)
            if mol.HasSubstructMatch(_UNCOMMON) and mol.HasSubstructMatch(_METAL):
                mol = _disconnector.Disconnect(mol)
            mol = _chooser.choose(mol)
            mol = _normalizer.normalize(mol)
            mol = _uncharger.uncharge(mol)
        except Exception as exc:  # RDKit raises several exception types here
            raise StructureError(
                f"structure cannot be standardized: {rdlog.reason(log, str(exc))}"
            ) from None
    if not any(a.GetAtomicNum() == 6 for a in mol.GetAtoms()):
        raise StructureError("no organic fragment (no carbon atoms) in the structure")
    return mol


def identity(mol: Chem.Mol, *, with_inchi: bool = True) -> Identity:
    """Compute canonical SMILES, InChI, InChIKey and formula of an already standardized parent.

    `with_inchi=False` skips the InChI string (empty in the result) where only the key is
    needed; the key is the same either way.
    """
    with rdlog.captured():
        if with_inchi:
            inchi = Chem.MolToInchi(mol) or ""  # type: ignore[no-untyped-call]  # RDKit's stub
            key = Chem.InchiToInchiKey(inchi) if inchi else ""  # type: ignore[no-untyped-call]
        else:
            inchi, key = "", Chem.MolToInchiKey(mol) or ""  # type: ignore[no-untyped-call]
    if not key:
        raise StructureError("no InChI can be computed for the structure")
    return Identity(
        smiles=Chem.MolToSmiles(mol),
        inchi=inchi,
        inchikey=key,
        formula=CalcMolFormula(mol),
    )


def standardize_smiles(smiles: str) -> tuple[Chem.Mol, Identity]:
    """Parse a SMILES, standardize it and return the parent with its identity keys."""
    mol = parent(parse_smiles(smiles))
    return mol, identity(mol)


_CW = Chem.ChiralType.CHI_TETRAHEDRAL_CW
_CCW = Chem.ChiralType.CHI_TETRAHEDRAL_CCW


def mirror_inchikey(mol: Chem.Mol) -> str | None:
    """InChIKey of the mirror image (every tetrahedral centre inverted), or None without one.

    A racemic entry (one diastereomer, both enantiomers: alphaprodine) is stored as one drawn
    enantiomer; its other enantiomer has this key.
    """
    m = Chem.Mol(mol)
    flipped = False
    for atom in m.GetAtoms():
        tag = atom.GetChiralTag()
        if tag in (_CW, _CCW):
            atom.SetChiralTag(_CCW if tag == _CW else _CW)
            flipped = True
    if not flipped:
        return None
    with rdlog.captured():
        key: str = Chem.MolToInchiKey(m) or ""  # type: ignore[no-untyped-call]
    return key or None


def has_open_stereocentre(mol: Chem.Mol) -> bool:
    """Whether the structure leaves a tetrahedral stereocentre unspecified."""
    centres: list[tuple[int, str]] = Chem.FindMolChiralCenters(  # type: ignore[no-untyped-call]
        mol, includeUnassigned=True, useLegacyImplementation=False
    )
    return any(label == "?" for _, label in centres)
