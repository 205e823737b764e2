"""Library screening throughput: one core, every core, a Dask LocalCluster, beside the floor.

    python bench/screen_bench.py [--n N] [--one-core-n M] [--input FILE.smi] [--chunk-size C] [--json]

Writes the first N structures of the combinatorial library (bench/library.py; default
1,000,000) as a .smi file, or reads --input, and screens it into Parquet against the shipped
registry (as `analogwatch screen` does, without the progress bar):

  floor_mol_per_s        RDKit alone per molecule, one core (check_bench.floor, same run,
                         on the first --floor-n structures of the library)
  one_core_mol_per_s     --workers 1 (in process), on the first M structures (default
                         min(N, 100,000): a rate per molecule, so a prefix of the permuted
                         library measures it without an hour of one-core screening)
  all_cores_mol_per_s    local engine, one forked worker per core, all N
  dask_mol_per_s         --engine dask on a LocalCluster, one single-threaded worker per core, all N
  all_cores_vs_target    all cores / (0.5 x cores x floor); the target is >= 1
  dask_vs_local          Dask / all cores; the target is >= 0.8
  outputs_identical      the three outputs agree row for row (one core on its prefix)
  peak_rss_mb            this process (the client: reader, writer, index) during the screens;
                         peak_child_rss_mb the largest local worker process
Rates are wall-clock and include pool / cluster start-up.
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
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from check_bench import floor
from library import write_smi

from service import runtime
from service.check.service import CheckOptions
from service.config import Settings
from service.paths import schedules_dir
from service.screen.run import ScreenJob, run_screen


def _same_rows(a: Path, b: Path) -> bool:
    """Whether `a` holds the same rows as `b` (as its first rows when `a` is shorter), read in batches."""
    fa, fb = pq.ParquetFile(a), pq.ParquetFile(b)
    if fa.metadata.num_rows > fb.metadata.num_rows or fa.schema_arrow != fb.schema_arrow:
        return False
    rest = fb.iter_batches(batch_size=10_000)
    held: pa.RecordBatch | None = None
    for ba in fa.iter_batches(batch_size=10_000):
        parts, have = [], 0
        while have < ba.num_rows:  # cut b's batches to a's boundaries
            if held is None:
                held = next(rest)
            take = min(ba.num_rows - have, held.num_rows)
            parts.append(held.slice(0, take))
            have += take
            held = held.slice(take) if take < held.num_rows else None
        if not pa.Table.from_batches([ba]).equals(pa.Table.from_batches(parts)):
            return False
    return True


def _peak_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="library size (default 1,000,000)")
    parser.add_argument(
        "--one-core-n", type=int, help="structures for the one-core run (default min(N, 100,000))"
    )
    parser.add_argument("--input", type=Path, help=".smi library instead of the generated one")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--floor-n", type=int, default=5_000, help="molecules for the floor")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        library = args.input or Path(tmp) / "library.smi"
        if not args.input:
            write_smi(args.n, library)
        generate_s = time.perf_counter() - t
        if args.input:
            with library.open() as f:
                n = sum(1 for ln in f if ln.strip())
        else:
            n = args.n
        one_n = min(n, args.one_core_n or 100_000)
        prefix = Path(tmp) / "prefix.smi"
        with library.open() as src, prefix.open("w") as dst:
            dst.writelines(islice(src, one_n))
        with library.open() as f:
            sample = [ln.split()[0] for ln in islice(f, args.floor_n)]

        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", schedules_dir=schedules_dir())
        rt = runtime.open_writable(settings)
        index = rt.index()
        options = CheckOptions(as_of=date.today(), threshold=settings.similarity_threshold)
        floor_rate = floor(sample, settings)

        def run(name: str, source: Path, **kw: object) -> tuple[float, float, Path]:
            out = Path(tmp) / f"{name}.parquet"
            job = ScreenJob(
                source=source, out=out, options=options, chunk_size=args.chunk_size, **kw
            )  # type: ignore[arg-type]
            t = time.perf_counter()
            summary = run_screen(index, job)
            wall = time.perf_counter() - t  # includes pool / cluster start-up
            print(f"{name}: {summary.rows:,} rows in {wall:,.1f} s", file=sys.stderr)
            return summary.rows / wall, wall, out

        one, one_s, out_one = run("one", prefix, workers=1)
        local, local_s, out_local = run("local", library, workers=cores)
        dask, dask_s, out_dask = run("dask", library, engine="dask", workers=cores)
        peak_rss, peak_child = (
            _peak_rss_mb(resource.RUSAGE_SELF),
            _peak_rss_mb(resource.RUSAGE_CHILDREN),
        )
        same = _same_rows(out_dask, out_local) and _same_rows(out_one, out_local)
        meta = pq.read_metadata(out_local)
        table = pq.read_table(out_local, columns=["error", "US_status"])
        rows = meta.num_rows
        errors = rows - table.column("error").null_count
        us = table.column("US_status").value_counts().to_pylist()
        rt.close()

    figures = {
        "n": rows,
        "one_core_n": one_n,
        "cores": cores,
        "registry_substances": len(index.snapshot.substances),
        "generate_s": round(generate_s, 1),
        "errors": errors,
        "us_statuses": {str(d["values"]): d["counts"] for d in us},
        "outputs_identical": same,
        "floor_mol_per_s": round(floor_rate, 1),
        "one_core_mol_per_s": round(one, 1),
        "all_cores_mol_per_s": round(local, 1),
        "dask_mol_per_s": round(dask, 1),
        "one_core_s": round(one_s, 1),
        "all_cores_s": round(local_s, 1),
        "dask_s": round(dask_s, 1),
        "all_cores_vs_target": round(local / (0.5 * cores * floor_rate), 2),
        "dask_vs_local": round(dask / local, 2),
        "peak_rss_mb": peak_rss,
        "peak_child_rss_mb": peak_child,
    }
    if args.json:
        print(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
