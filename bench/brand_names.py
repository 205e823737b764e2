"""Build `service/chem/data/brand_names.csv`: brand names that stand for a drug the check knows.

Input: the FDA Global Substance Registration System's UNII names list (`UNII_Names.txt`:
name, type, UNII, display name; public domain). Rows of type `bn` (brand name) are kept when
the substance they name, its display name with the counter-ion and hydrate words taken off
("OXYCODONE HYDROCHLORIDE" -> "OXYCODONE"), is a registry name or an approved drug of
ChEMBL's list that the check can read (not an inorganic one), and when the brand is not
already a name the check knows. A brand that
the list gives two different drugs is left out.

    python bench/brand_names.py UNII_Names.txt

The check reads the table at run time and resolves the generic name again, so a registry
change moves a brand with its drug; rerun this script to take in a new names list.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from service.check.service import _approved_drug as approved_drug
from service.check.service import lookup_drug_name, without_salt
from service.chem.drugnames import BRANDS, approved_drug_smiles
from service.chem.errors import StructureError
from service.config import Settings
from service.runtime import open_read_only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", type=Path, help="UNII_Names.txt of the FDA GSRS")
    parser.add_argument("--out", type=Path, default=BRANDS)
    args = parser.parse_args()
    with open_read_only(Settings()) as rt:
        index = rt.index()

    def target(generic: str) -> str | None:
        if (s := lookup_drug_name(index, generic)) is not None:
            return f"registry:{s.key}"
        for n in (generic, *without_salt(generic)):
            if approved_drug_smiles(n):
                try:  # as the check will read it: an inorganic drug is no structure to check
                    approved_drug(generic)
                except StructureError:
                    return None
                return f"chembl:{n.casefold()}"
        return None

    brands: dict[str, dict[str, tuple[str, str, str]]] = {}
    with args.names.open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t")
        next(rows)
        for name, kind, unii, display in rows:
            brand = " ".join(name.split())
            if kind != "bn" or len(brand) < 3:
                continue
            to = target(display)
            if to is not None:
                brands.setdefault(brand.casefold(), {})[to] = (brand, unii, display)
    kept, ambiguous, taken = [], 0, 0
    for key, targets in brands.items():
        if index.lookup_name(key) is not None or approved_drug_smiles(key):
            taken += 1  # already a registry or approved-drug name
        elif len(targets) > 1:
            ambiguous += 1
        else:
            kept.append(next(iter(targets.values())))
    kept.sort(key=lambda r: r[0].casefold())
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["brand", "unii", "generic"])
        w.writerows(kept)
    print(
        f"{len(kept)} brands written to {args.out} ({ambiguous} naming two drugs and "
        f"{taken} already names left out)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
