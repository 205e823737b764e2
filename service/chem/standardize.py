"""Parse and standardize structures into the parent form the registry keys on.

The parent is what legal lists mean by "the substance": the largest organic fragment
(salts and solvents stripped), neutralized where a neutral form exists, with functional
groups normalized. Stereochemistry and isotopes are kept in the structure; the
connectivity block of the InChIKey ignores them for salt-, stereo- and isotope-insensitive
matching.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem, RDLogger
from rdkit.Chem.MolStandardize import rdMolStandardize
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from service.chem.errors import StructureError

RDLogger.DisableLog("rdApp.*")

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



def parse_smiles(smiles: str) -> Chem.Mol:
    """Parse a SMILES string; raise StructureError naming the reason when RDKit cannot."""
    text = smiles.strip()
    if not text:
        raise StructureError("empty structure")
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise StructureError(f"SMILES does not parse: {text[:80]!r}")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitization exception types
        raise StructureError(f"SMILES is not a valid molecule: {exc}") from None
    return mol


def parent(mol: Chem.Mol) -> Chem.Mol:
    """Return the standardized parent: cleaned, largest organic fragment, uncharged.

    Raises StructureError when the input has no atoms or no organic fragment.
    """
    if mol.GetNumAtoms() == 0:
        raise StructureError("structure has no atoms")
    try:
        mol = rdMolStandardize.Cleanup(mol)
        mol = _chooser.choose(mol)
        mol = _uncharger.uncharge(mol)
    except Exception as exc:
        raise StructureError(f"structure cannot be standardized: {exc}") from None
    if not any(a.GetAtomicNum() == 6 for a in mol.GetAtoms()):
        raise StructureError("no organic fragment (no carbon atoms) in the structure")
    return mol


def identity(mol: Chem.Mol) -> Identity:
    """Compute canonical SMILES, InChI, InChIKey and formula of an already standardized parent."""
    inchi = Chem.MolToInchi(mol) or ""
    if not inchi:
        raise StructureError("no InChI can be computed for the structure")
    return Identity(
        smiles=Chem.MolToSmiles(mol),
        inchi=inchi,
        inchikey=Chem.InchiToInchiKey(inchi),
        formula=CalcMolFormula(mol),
    )


def standardize_smiles(smiles: str) -> tuple[Chem.Mol, Identity]:
    """Parse a SMILES, standardize it and return the parent with its identity keys."""
    mol = parent(parse_smiles(smiles))
    return mol, identity(mol)
