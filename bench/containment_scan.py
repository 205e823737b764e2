"""Recall and false alarms of the containment signals over a grid of their parameters.

    python bench/containment_scan.py [--signal contains_controlled|shares_scaffold]
        [--min-atoms 12] [--shares 0.4,0.5,0.6,0.7] [--floors 0,0.15,0.2,0.25,0.3]

The backtest's tests (docs/backtest.md: every substance first reported before its control in a
jurisdiction, checked against the registry frozen at t) and its background (the approved drugs
that are neither registry substances nor class members, against today's registry) are asked
one question per parameter set: does the query contain whole a substance controlled somewhere
(`contains_controlled`), or a scaffold of one (`shares_scaffold`: two or more of its ring
systems and their linkers), at t (today for the background), of at least MIN_ATOMS heavy atoms
and SHARE of the query's, among the CANDIDATES controlled substances most similar to it and at
least FLOOR-similar?

Printed per parameter set: the tests where it fires, the misses of the service's other signals
it catches (a miss: not warned at the service default without this signal), and the background
drugs it flags, apart and counted with the other signals' flags. Fingerprints are the
service's (Morgan radius 2, 2,048 bits).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from service.backtest import service as bt
from service.check.service import (
    CONTAINS_CANDIDATES,
    CONTAINS_MIN_ATOMS,
    DEFAULT_ELSEWHERE_THRESHOLD,
    DEFAULT_THRESHOLD,
    SCAFFOLD_MIN_ATOMS,
    contained_controlled,
    shared_scaffold,
)
from service.lag.cli import analysis_snapshot
from service.paths import schedules_dir

AS_OF = date.today()


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


ASK = {  # the signal's function, and its service default for MIN_ATOMS
    "contains_controlled": (contained_controlled, CONTAINS_MIN_ATOMS),
    "shares_scaffold": (shared_scaffold, SCAFFOLD_MIN_ATOMS),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--signal", choices=sorted(ASK), default="contains_controlled")
    ap.add_argument("--shares", type=_floats, default=[0.4, 0.5, 0.6, 0.7])
    ap.add_argument("--floors", type=_floats, default=[0.0, 0.15, 0.2, 0.25, 0.3])
    ap.add_argument("--min-atoms", type=_ints, default=None, help="comma-separated")
    ap.add_argument("--candidates", type=int, default=CONTAINS_CANDIDATES)
    args = ap.parse_args()
    signal = args.signal
    ask, default_atoms = ASK[signal]
    sizes = args.min_atoms or [default_atoms]

    t0 = time.perf_counter()
    snap = analysis_snapshot(schedules_dir())
    run = bt.run(snap, as_of=AS_OF)
    by_key = {s.key: s for s in snap.substances}
    fps = bt.FingerprintCache(2048)
    # a miss: not warned at the service default by any other signal
    others = frozenset(bt.SIGNALS) - {signal} | {"controlled"}
    missed = {
        (tr.row.jurisdiction, tr.row.key)
        for tr in run.trials
        if not tr.verdict.warned(DEFAULT_THRESHOLD, DEFAULT_ELSEWHERE_THRESHOLD, others)
    }
    indexes = {}
    for day in sorted({tr.t for tr in run.trials} | {AS_OF}):
        indexes[day] = bt.frozen_index(bt.freeze(snap, day), fps, "morgan2")
    today = indexes[AS_OF]
    # flagged today by another signal at the service default
    flagged_now = {
        d["name"].casefold()
        for d in bt.flagged_background(
            run, threshold=DEFAULT_THRESHOLD, elsewhere_threshold=DEFAULT_ELSEWHERE_THRESHOLD
        )
        if any(sig != signal for sigs in d["jurisdictions"].values() for sig in sigs)
    }
    print(
        f"{len(run.trials)} tests ({len(missed)} missed by the other signals), "
        f"{len(run.drugs)} background drugs; set-up {time.perf_counter() - t0:.0f} s"
    )
    print(
        f"{signal}: atoms  share  floor  fires  misses caught  background flagged (new)  "
        "background with other signals"
    )
    grid = [(n, share, floor) for n in sizes for share in args.shares for floor in args.floors]
    for size, share, floor in grid:
        params = {
            "min_atoms": size,
            "min_share": share,
            "min_similarity": floor,
            "candidates": args.candidates,
        }
        fires, caught = 0, []
        for tr in run.trials:
            s = by_key[tr.row.key]
            index = indexes[tr.t]
            search = index.similarity.query(index, s.mol, s.smiles)
            own = frozenset(
                i
                for i, x in enumerate(index.snapshot.substances)
                if x.connectivity == s.connectivity
            )
            if ask(index, search, s.mol, tr.t, own, **params) is None:
                continue
            fires += 1
            if (tr.row.jurisdiction, tr.row.key) in missed:
                caught.append(f"{tr.row.jurisdiction} {tr.row.name}")
        new = []
        flagged = 0
        for d in run.drugs:
            search = today.similarity.query(today, d.mol, "")
            if ask(today, search, d.mol, AS_OF, **params) is None:
                continue
            flagged += 1
            if d.name.casefold() not in flagged_now:
                new.append(d.name.lower())
        total = len(flagged_now) + len(new)
        print(
            f"{size:5d}  {share:5.2f}  {floor:5.2f}  {fires:5d}  {len(caught):3d} "
            f"({', '.join(caught) or '-'})  {flagged:4d} ({len(new)}: "
            f"{', '.join(new) or '-'})  {total} = {total / len(run.drugs):.2%}"
        )


if __name__ == "__main__":
    main()
