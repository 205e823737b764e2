"""Read a structure given as SMILES, InChI, a molfile or a systematic name, within fixed bounds.

Bounds protect the service: text length, heavy-atom count before and after
standardization. Each rejection is a StructureError whose message names the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdkit import Chem

from service.chem import rdlog
from service.chem.errors import StructureError
from service.chem.names import name_to_smiles
from service.chem.standardize import Identity, ascii_only, identity, parent, parse_smiles

MAX_TEXT = 100_000  # characters; a large V3000 molfile still fits
MAX_SMILES = 2_000
MAX_INPUT_HEAVY_ATOMS = 300  # a salt or hydrate may bring its counter-ions
MAX_HEAVY_ATOMS = 150  # parent: well above every opioid scaffold

INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
CAS = re.compile(r"^\d{2,7}-\d{2}-\d$")
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A standardized parent with its identity keys and how the input was read."""

    mol: Chem.Mol
    identity: Identity
    input_type: str
    read_as: str | None = None  # a name: the SMILES OPSIN read it as, before standardizing
    # what read the name: "opsin", "chembl" (approved drug), "brand" or "law" (an exclusion)
    read_by: str = "opsin"
    generic: str | None = None  # a brand name: the substance it names (FDA GSRS display name)


def detect(text: str) -> str:
    """Guess the notation: `inchi`, `molfile`, `inchikey`, `cas` or `smiles`."""
    t = text.strip()
    if t.startswith("InChI="):
        return "inchi"
    if "\n" in t and ("M  END" in t or "V2000" in t or "V3000" in t):
        return "molfile"
    if INCHIKEY.match(t):
        return "inchikey"
    if CAS.match(t):
        return "cas"
    return "smiles"


def read_structure(text: str, input_type: str | None = None, *, with_inchi: bool = False) -> Parsed:
    """Parse, bound and standardize a structure; raise StructureError with the reason.

    `input_type` "name" reads a systematic name with OPSIN (see `service.chem.names`); it
    is never guessed here.
    """
    if "\x00" in text:
        raise StructureError("input contains a NUL character")
    if len(text) > MAX_TEXT:
        raise StructureError(f"input is {len(text)} characters; the limit is {MAX_TEXT}")
    kind = input_type or detect(text)
    if not text.strip():
        raise StructureError("empty structure")
    read_as = None
    if kind == "name":
        read_as = name_to_smiles(text)
        if len(read_as) > MAX_SMILES:
            raise StructureError(
                f"the name reads as a SMILES of {len(read_as)} characters; the limit is {MAX_SMILES}"
            )
        raw = parse_smiles(read_as)
    elif kind == "smiles":
        t = text.strip()
        if len(t) > MAX_SMILES:
            raise StructureError(f"SMILES is {len(t)} characters; the limit is {MAX_SMILES}")
        if _WHITESPACE.search(t):
            raise StructureError("SMILES contains whitespace")
        raw = parse_smiles(t)
    elif kind == "inchi":
        ascii_only(text, "InChI")
        with rdlog.captured() as log:
            raw = Chem.MolFromInchi(text.strip())  # type: ignore[no-untyped-call]  # RDKit's stub
        if raw is None:
            raise StructureError(f"InChI does not parse: {rdlog.reason(log, 'invalid InChI')}")
    elif kind == "molfile":
        ascii_only(text, "molfile")
        with rdlog.captured() as log:
            raw = Chem.MolFromMolBlock(text)
        if raw is None:
            raise StructureError(f"molfile does not parse: {rdlog.reason(log, 'invalid molfile')}")
    else:
        raise StructureError(f"{kind} is an identifier, not a structure")
    if raw.GetNumHeavyAtoms() > MAX_INPUT_HEAVY_ATOMS:
        raise StructureError(
            f"structure has {raw.GetNumHeavyAtoms()} heavy atoms; the limit is {MAX_INPUT_HEAVY_ATOMS}"
        )
    mol = parent(raw)
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        raise StructureError(
            f"parent structure has {mol.GetNumHeavyAtoms()} heavy atoms; the limit is {MAX_HEAVY_ATOMS}"
        )
    return Parsed(mol, identity(mol, with_inchi=with_inchi), kind, read_as)
