"""Names of approved drugs read as structures: "loperamide" or "nalmefene" is neither
a registry name nor a systematic name, yet a user asks by it; nor is a brand name
("OxyContin", "Ultram").

The table of drugs is ChEMBL's approved drugs shipped for the backtest
(`service/backtest/data/chembl_approved_drugs.csv`, CC BY-SA 3.0; its README gives the
source): preferred name, case-insensitive, to SMILES. The table of brands
(`service/chem/data/brand_names.csv`; `service/chem/data/README.md` gives the source) maps a
brand name to the substance it names in the FDA's substance registration system.

Plant materials and crude preparations ("kratom", "opium", "poppy straw") are asked about by
name too, but are no single structure: `plant_material` names the alkaloids to ask about.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "backtest" / "data" / "chembl_approved_drugs.csv"
BRANDS = Path(__file__).resolve().parent / "data" / "brand_names.csv"


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    out: dict[str, str] = {}
    with TABLE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = " ".join(row["pref_name"].split()).casefold()
            if name and row["smiles"]:
                out.setdefault(name, row["smiles"])
    return out


def approved_drug_smiles(name: str) -> str | None:
    """The SMILES ChEMBL gives an approved drug of this name, or None."""
    return _names().get(" ".join(name.split()).casefold())


@lru_cache(maxsize=1)
def _brands() -> dict[str, tuple[str, str, str]]:
    with BRANDS.open(encoding="utf-8", newline="") as fh:
        return {
            " ".join(row["brand"].split()).casefold(): (row["brand"], row["generic"], row["unii"])
            for row in csv.DictReader(fh)
        }


def brand_generic(name: str) -> tuple[str, str] | None:
    """The substance a brand name stands for, as (its name, its UNII), or None."""
    found = _brands().get(" ".join(name.split()).casefold())
    return (found[1], found[2]) if found else None


def brand_names() -> dict[str, str]:
    """Every brand name of the table: its case-folded form to its spelling in the list."""
    return {key: row[0] for key, row in _brands().items()}


# plant material or crude preparation -> what it is, and the registry keys of the alkaloids
# in it that lists name one by one
_KRATOM = ("a plant (Mitragyna speciosa, kratom)", ("mitragynine", "7-hydroxymitragynine"))
_OPIUM = ("the latex of the opium poppy", ("morphine", "codeine", "thebaine"))
_POPPY = ("a material of the opium poppy", ("morphine", "codeine", "thebaine", "oripavine"))
_MATERIALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kratom": _KRATOM,
    "mitragyna speciosa": _KRATOM,
    "opium": _OPIUM,
    "raw opium": _OPIUM,
    "medicinal opium": _OPIUM,
    "prepared opium": _OPIUM,
    "poppy straw": _POPPY,
    "poppy-straw": _POPPY,
    "concentrate of poppy straw": _POPPY,
    "concentrate of poppy-straw": _POPPY,
    "opium poppy": _POPPY,
    "papaver somniferum": _POPPY,
}


def plant_material(name: str) -> tuple[str, tuple[str, ...]] | None:
    """What a plant material or crude preparation is, and the registry keys of the alkaloids
    to ask about instead, or None for any other name."""
    return _MATERIALS.get(" ".join(name.split()).casefold())
