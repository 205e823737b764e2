"""Names of approved drugs read as structures: "loperamide" or "nalmefene" is neither
a registry name nor a systematic name, yet a user asks by it.

The table is ChEMBL's approved drugs shipped for the backtest
(`service/backtest/data/chembl_approved_drugs.csv`, CC BY-SA 3.0; its README gives the
source): preferred name, case-insensitive, to SMILES.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "backtest" / "data" / "chembl_approved_drugs.csv"


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
