"""Profile the per-molecule screen path and the batch check path on one core.

    python bench/profile_paths.py [--path screen|check] [--n N] [--cprofile] [--top K]
    python bench/profile_paths.py --summarize RAW   # py-spy's --format raw output, by stage

`screen`: `service.screen.run.screen_rows` over the first N structures of bench/library.py,
in chunks of 1,000, each into its Arrow table (what a screen worker does, without the
pool). `check`: `check_many(..., processes=1, as_json=True)` over N structures of
bench/check_bench.py (what `analogwatch check --file` does on one core). The index is built
before the timed part. With --cprofile, prints the functions with the most own time and
the most cumulative time; without it, runs the path plainly, for a sampling profiler:

    py-spy record -o docs/screening-flame.svg -- python bench/profile_paths.py --path screen
    py-spy record --format raw -o screen.raw -- python bench/profile_paths.py --path screen
    python bench/profile_paths.py --summarize screen.raw

--summarize attributes each sample of the timed part to the deepest frame that names a
stage (STAGES: parse, standardize, InChIKey, ...) and prints each stage's share.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from check_bench import floor, generate
from library import library

from service import runtime
from service.check.batch import Item, check_many
from service.check.service import CheckOptions
from service.config import Settings
from service.paths import schedules_dir
from service.screen.run import chunks, screen_options, screen_rows

# the function that names each stage; a sample counts for the deepest one on its stack
STAGES = {
    "parse_smiles": "parse SMILES",
    "parent": "standardize (parent)",
    "MolToInchiKey": "InChIKey",
    "identity": "canonical SMILES + formula",
    "fingerprint": "Morgan fingerprint",
    "tanimoto_many": "Tanimoto to the registry",
    "CompiledClass.match": "class rules",
    "_neighbors": "neighbours per jurisdiction",
    "MemoryQuery.nearest": "neighbours per jurisdiction",
    "_neighbor": "neighbours per jurisdiction",
    "BaseModel.__init__": "verdict objects (pydantic)",
    "BaseModel.model_dump": "JSON of the result",
    "_line": "JSON of the result",
    "table": "output table (Arrow)",
    "to_table": "output table (Arrow)",
    "row": "output table (Arrow)",
    "_find_and_load": "imports (once per process)",
}
TIMED = ("main.<locals>.screen", "main.<locals>.check")


def summarize(raw: Path) -> None:
    """Print the share of each stage in py-spy's raw (collapsed) samples of the timed part."""
    shares: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        names = [f.split(" (")[0] for f in stack.split(";")]
        if not any(n in TIMED for n in names):
            continue
        total += int(count)
        stage = next((STAGES[n] for n in reversed(names) if n in STAGES), "other (check logic)")
        shares[stage] = shares.get(stage, 0) + int(count)
    print(f"{total:,} samples")
    for stage, n in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"{100 * n / total:5.1f} %  {n:6,}  {stage}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--path", choices=("screen", "check"), default="screen")
    parser.add_argument("--n", type=int, default=3_000)
    parser.add_argument("--cprofile", action="store_true", help="profile with cProfile")
    parser.add_argument("--top", type=int, default=25, help="rows of each cProfile table")
    parser.add_argument("--summarize", type=Path, help="py-spy raw output to sum up by stage")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", schedules_dir=schedules_dir())
        rt = runtime.open_writable(settings)
        index = rt.index()
        codes = tuple(sorted(index.snapshot.jurisdictions))
        options = CheckOptions(as_of=date(2026, 12, 1), jurisdictions=codes)
        screen_opts = screen_options(options, codes)  # as run_screen asks
        smiles = list(library(args.n)) if args.path == "screen" else generate(args.n)
        items = [Item(f"lib-{i}", s, "smiles") for i, s in enumerate(smiles)]
        floor_rate = floor(smiles, settings)

        def screen() -> None:
            for chunk in chunks(items, 1000):
                screen_rows(index, chunk, screen_opts)

        def check() -> None:
            for _ in check_many(index, items, options, processes=1, as_json=True):
                pass

        run: Callable[[], None] = screen if args.path == "screen" else check
        importlib.import_module("pandas")  # pyarrow imports it on first use: not profiled
        profiler = cProfile.Profile() if args.cprofile else None
        t, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        run()
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        rt.close()

    rate = len(items) / wall
    print(
        f"{args.path}: {len(items):,} molecules, {rate:,.0f} mol/s, "
        f"floor {floor_rate:,.0f} mol/s, ratio {rate / floor_rate:.2f}; "
        f"{1e3 * cpu / len(items):.3f} ms CPU/mol" + (" (under cProfile)" if profiler else ""),
        file=sys.stderr,
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
