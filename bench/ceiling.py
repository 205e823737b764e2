"""How close to the floor a check can come: what the result itself must cost beyond it.

    python bench/ceiling.py [--n 3000] [--rounds 5] [--json]

The floor (`check_bench.floor`) is parse, standardize, InChIKey and Morgan fingerprint. A
check result also states the query's canonical SMILES and formula, and is written out as a
JSON line; neither is in the floor. This script measures, on one core, per molecule over
the same structures (`check_bench.generate`), in rounds that interleave the stages so the
machine's drift hits all of them alike (each figure the median of the rounds):

  floor      parse + standardize + InChIKey + fingerprint
  identity   the floor, plus canonical SMILES and formula (the `smiles` and `formula` keys)
  output     identity, plus writing each molecule's own check result as its JSON line
             (the results are made before the timed part: serialization alone)
  check      `check_many(..., processes=1, as_json=True)`, what `analogwatch check --file`
             runs on one core

and prints each as ms per molecule and as a ratio to the floor. `output` is the fastest any
check with today's result could be if deciding the verdicts cost nothing: its ratio is the
ceiling of the batch check's ratio to the floor. The verdict code's share is `check - output`,
and `budget` is what the verdicts of a molecule may cost for a target ratio (0.9 by default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rdkit import Chem
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

sys.path.insert(0, str(Path(__file__).parent))
from check_bench import generate

from service import runtime
from service.check.batch import Item, Outcome, _line, check_item, check_many
from service.check.service import CheckOptions
from service.chem.fingerprints import fingerprint
from service.chem.standardize import parent
from service.config import Settings
from service.paths import schedules_dir


def stages(
    smiles: list[str], lines: Callable[[], None], radius: int, bits: int, outcomes: list[Outcome]
) -> dict[str, Callable[[], None]]:
    """The timed stages, each a loop over every structure."""

    def floor_one(s: str) -> Chem.Mol:
        mol = parent(Chem.MolFromSmiles(s))
        Chem.MolToInchiKey(mol)
        fingerprint(mol, "morgan", radius, bits)
        return mol

    def floor() -> None:
        for s in smiles:
            floor_one(s)

    def identity() -> None:
        for s in smiles:
            mol = floor_one(s)
            Chem.MolToSmiles(mol)
            CalcMolFormula(mol)

    def output() -> None:
        for s, outcome in zip(smiles, outcomes, strict=True):
            mol = floor_one(s)
            Chem.MolToSmiles(mol)
            CalcMolFormula(mol)
            _line(outcome)

    return {"floor": floor, "identity": identity, "output": output, "check": lines}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3_000, help="structures (default 3,000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--target", type=float, default=0.9, help="ratio to budget for")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    smiles = generate(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", schedules_dir=schedules_dir())
        rt = runtime.open_writable(settings)
        index = rt.index()
        options = CheckOptions(as_of=date.today(), threshold=settings.similarity_threshold)
        items = [Item(None, s, "smiles") for s in smiles]
        outcomes = [check_item(index, it, options) for it in items]  # warms the index too

        def check() -> None:
            for _ in check_many(index, items, options, processes=1, as_json=True):
                pass

        timed = stages(
            smiles, check, settings.fingerprint_radius, settings.fingerprint_bits, outcomes
        )
        seconds: dict[str, list[float]] = {name: [] for name in timed}
        for _ in range(args.rounds):
            for name, run in timed.items():
                t = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - t)
        substances = len(index.snapshot.substances)
        rt.close()

    ms = {name: 1e3 * statistics.median(s) / len(smiles) for name, s in seconds.items()}
    ratio = {name: ms["floor"] / v for name, v in ms.items()}
    budget_ms = ms["floor"] / args.target - ms["output"]
    figures = {
        "n": len(smiles),
        "rounds": args.rounds,
        "cores": os.cpu_count() or 1,
        "registry_substances": substances,
        **{f"{name}_ms": round(v, 4) for name, v in ms.items()},
        **{f"{name}_vs_floor": round(r, 3) for name, r in ratio.items() if name != "floor"},
        "verdict_ms": round(ms["check"] - ms["output"], 4),
        "target": args.target,
        "verdict_budget_ms": round(budget_ms, 4),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{figures['cores']} cores, one used; registry of {substances} substances; "
        f"{len(smiles):,} structures, median of {args.rounds} interleaved rounds"
    )
    print(f"\n{'stage':<12}{'ms/mol':>10}{'x floor':>10}")
    for name, v in ms.items():
        print(f"{name:<12}{v:>10.3f}{ratio[name]:>10.2f}")
    print(
        f"\nverdict code (check - output): {ms['check'] - ms['output']:.3f} ms/mol; "
        f"ceiling with free verdicts: {ratio['output']:.2f} x floor"
    )
    print(
        f"for {args.target} x floor the verdicts of a molecule may cost {1e3 * budget_ms:.0f} us"
        + (" (none: the output alone is past the target)" if budget_ms <= 0 else "")
    )


if __name__ == "__main__":
    main()
