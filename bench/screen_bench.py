"""Library screening throughput: one core, every core, a Dask LocalCluster, beside the floor.

    python bench/screen_bench.py [--n N] [--input FILE.smi] [--chunk-size C] [--json]

Generates N drug-like structures with check_bench's generator (or reads --input), writes
them as a .smi library and screens it into Parquet three times against the shipped
registry (as `analogwatch screen` does, without the progress bar):

  floor_mol_per_s        RDKit alone per molecule, one core (check_bench.floor, same run)
  one_core_mol_per_s     --workers 1 (in process)
  all_cores_mol_per_s    local engine, one forked worker per core
  dask_mol_per_s         --engine dask on a LocalCluster, one single-threaded worker per core
  all_cores_vs_target    all cores / (0.5 x cores x floor); the target is >= 1
  dask_vs_local          Dask / all cores; the target is >= 0.8
  peak_rss_mb            this process; peak_child_rss_mb the largest worker process
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from check_bench import floor, generate

from service.app import startup
from service.check.index import IndexHolder
from service.check.service import CheckOptions
from service.config import Settings
from service.paths import schedules_dir
from service.screen.run import ScreenJob, run_screen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=20_000, help="structures to generate (default 20,000)"
    )
    parser.add_argument("--input", type=Path, help=".smi library instead of generating one")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--floor-n", type=int, default=5_000, help="molecules for the floor")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        if args.input:
            library = args.input
            smiles = [
                ln.split()[0]
                for _, ln in zip(range(args.floor_n), library.open(), strict=False)
                if ln.strip()
            ]
        else:
            smiles = generate(args.n)
            library = Path(tmp) / "library.smi"
            with library.open("w") as f:
                for i, s in enumerate(smiles):
                    f.write(f"{s} mol-{i}\n")
        generate_s = time.perf_counter() - t
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", schedules_dir=schedules_dir())
        engine = startup(settings)
        index = IndexHolder(engine, kind="morgan", radius=2, bits=2048).rebuild()
        options = CheckOptions(as_of=date.today(), threshold=settings.similarity_threshold)
        floor_rate = floor(smiles[: args.floor_n], settings)

        def run(name: str, **kw: object) -> tuple[float, Path]:
            out = Path(tmp) / f"{name}.parquet"
            job = ScreenJob(
                source=library, out=out, options=options, chunk_size=args.chunk_size, **kw
            )  # type: ignore[arg-type]
            t = time.perf_counter()
            summary = run_screen(index, job)
            wall = time.perf_counter() - t  # includes pool / cluster start-up
            return summary.rows / wall, out

        one, out_one = run("one", workers=1)
        local, out_local = run("local", workers=cores)
        dask, out_dask = run("dask", engine="dask", workers=cores)
        same = pq.read_table(out_dask).equals(pq.read_table(out_local)) and pq.read_table(
            out_one
        ).equals(pq.read_table(out_local))
        meta = pq.read_metadata(out_local)
        table = pq.read_table(out_local, columns=["error", "US_status"])
        rows = meta.num_rows
        errors = rows - table.column("error").null_count
        flagged = sum(s not in (None, "not_flagged") for s in table.column("US_status").to_pylist())
        engine.dispose()

    figures = {
        "n": rows,
        "cores": cores,
        "registry_substances": len(index.snapshot.substances),
        "generate_s": round(generate_s, 1),
        "errors": errors,
        "us_flagged": flagged,
        "outputs_identical": same,
        "floor_mol_per_s": round(floor_rate, 1),
        "one_core_mol_per_s": round(one, 1),
        "all_cores_mol_per_s": round(local, 1),
        "dask_mol_per_s": round(dask, 1),
        "all_cores_vs_target": round(local / (0.5 * cores * floor_rate), 2),
        "dask_vs_local": round(dask / local, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_child_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }
    if args.json:
        print(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
