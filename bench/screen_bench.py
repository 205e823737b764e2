"""Library screening throughput, every figure a ratio to the floor measured in the same run.

    python bench/screen_bench.py [--n N] [--one-core-n M] [--input FILE.smi] [--chunk-size C]
                                 [--no-dask] [--json]
    python bench/screen_bench.py --growth [--sizes 1000,10000,100000] [--million]
                                 [--growth-workers W] [--json]

Default mode: writes the first N structures of the combinatorial library (bench/library.py;
default 1,000,000) as a .smi file, or reads --input, and screens it into Parquet against the
shipped registry (as `analogwatch screen` does, without the progress bar):

  floor_mol_per_s        RDKit alone per molecule, one core (check_bench.floor on the first
                         --floor-n structures of the library), measured before and after the
                         screens (the machine may be shared); every ratio is to their mean
  one_core_mol_per_s     --workers 1 (in process), on the first M structures (default
                         min(N, 100,000): a rate per molecule, so a prefix of the permuted
                         library measures it without an hour of one-core screening)
  all_cores_mol_per_s    local engine, one forked worker per core (`cores`), all N
  dask_mol_per_s         --engine dask on a LocalCluster, one single-threaded worker per core, all N
  *_vs_floor             each rate / floor
  all_cores_vs_target    all cores / (0.5 x cores x floor); the target is >= 1
  dask_vs_local          Dask / all cores; the target is >= 0.8
  outputs_identical      the outputs agree row for row (one core on its prefix)
  peak_rss_mb            this process (the client: reader, writer, index) during the screens;
                         peak_child_rss_mb the largest local worker process
Rates are wall-clock and include pool / cluster start-up.

--growth: the cost-growth table. For each size (1k, 10k and 100k structures; 1M as well
with --million) a fresh process screens that prefix of the library on --growth-workers
processes (default 1, one core) and reports its time and its peak resident memory, beside
the floor: time should grow linearly (equal ms per molecule) and memory stay flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from check_bench import floor
from library import library, write_smi

from service import runtime
from service.check.service import CheckOptions
from service.config import Settings
from service.paths import schedules_dir
from service.screen.run import ScreenJob, run_screen

GROWTH_SIZES = (1_000, 10_000, 100_000)
MILLION = 1_000_000


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


def _open_index(tmp: str) -> tuple[Any, Settings]:
    settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", schedules_dir=schedules_dir())
    return runtime.open_writable(settings), settings


def _options(settings: Settings) -> CheckOptions:
    return CheckOptions(
        as_of=date.today(),
        threshold=settings.similarity_threshold,
        elsewhere_threshold=settings.elsewhere_threshold,
    )


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def growth_child(source: Path, workers: int, chunk_size: int) -> None:
    """Screen one library in this fresh process; print its time and peak memory as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        rt, settings = _open_index(tmp)
        index = rt.index()
        out = Path(tmp) / "out.parquet"
        job = ScreenJob(
            source=source,
            out=out,
            options=_options(settings),
            chunk_size=chunk_size,
            workers=workers,
        )
        t = time.perf_counter()
        summary = run_screen(index, job)
        seconds = time.perf_counter() - t
        rt.close()
    print(
        json.dumps(
            {
                "rows": summary.rows,
                "seconds": seconds,
                "peak_rss_mb": _peak_rss_mb(resource.RUSAGE_SELF),
                "peak_child_rss_mb": _peak_rss_mb(resource.RUSAGE_CHILDREN),
            }
        )
    )


def growth(sizes: list[int], workers: int, chunk_size: int, floor_n: int, as_json: bool) -> None:
    """The cost-growth table: each size screened by a fresh process, beside the floor."""
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        rt, settings = _open_index(tmp)
        sample = list(library(floor_n))
        floor_before = floor(sample, settings)
        runs = []
        for n in sizes:
            source = Path(tmp) / f"library-{n}.smi"
            write_smi(n, source)
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--growth-child",
                    str(source),
                    "--growth-workers",
                    str(workers),
                    "--chunk-size",
                    str(chunk_size),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            run = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{n:,}: {run['rows']:,} rows in {run['seconds']:,.1f} s", file=sys.stderr)
            runs.append({"n": n, **run})
            source.unlink()
        floor_after = floor(sample, settings)
        rt.close()
    floor_rate = (floor_before + floor_after) / 2
    for r in runs:
        r["mol_per_s"] = round(r["rows"] / r["seconds"], 1)
        r["vs_floor"] = round(r["mol_per_s"] / floor_rate, 3)
        r["ms_per_mol"] = round(1000 * r["seconds"] / r["rows"], 3)
        r["seconds"] = round(r["seconds"], 2)
        r["peak_mb"] = max(r["peak_rss_mb"], r["peak_child_rss_mb"])
    if as_json:
        print(
            json.dumps(
                {
                    "cores": cores,
                    "workers": workers,
                    "floor_mol_per_s": round(floor_rate, 1),
                    "floor_before_mol_per_s": round(floor_before, 1),
                    "floor_after_mol_per_s": round(floor_after, 1),
                    "runs": runs,
                }
            )
        )
        return
    print(
        f"{cores} cores; screen on {workers} worker(s); floor {floor_rate:,.0f} mol/s "
        f"(before {floor_before:,.0f}, after {floor_after:,.0f})"
    )
    base = runs[0]
    rows = [
        (
            f"{r['n']:,}",
            f"{r['seconds']:,.1f}",
            f"{r['ms_per_mol']:.2f}",
            f"{r['ms_per_mol'] / base['ms_per_mol']:.2f}",
            f"{r['vs_floor']:.2f}",
            f"{r['peak_mb']:,.0f}",
            f"{r['peak_mb'] / base['peak_mb']:.2f}",
        )
        for r in runs
    ]
    header = (
        "structures",
        "seconds",
        "ms/mol",
        "ms/mol vs first",
        "x floor",
        "peak RSS MB",
        "RSS vs first",
    )
    print(_table(rows, header))


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
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    parser.add_argument("--growth", action="store_true", help="print the cost-growth table")
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, GROWTH_SIZES)),
        help="growth: library sizes, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument("--million", action="store_true", help="growth: add 1,000,000")
    parser.add_argument(
        "--growth-workers", type=int, default=1, help="growth: processes (default 1)"
    )
    parser.add_argument("--growth-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.growth_child:
        growth_child(args.growth_child, args.growth_workers, args.chunk_size)
        return
    if args.growth:
        sizes = [int(x) for x in args.sizes.split(",")] + ([MILLION] if args.million else [])
        growth(sizes, args.growth_workers, args.chunk_size, args.floor_n, args.json)
        return
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        library_path = args.input or Path(tmp) / "library.smi"
        if not args.input:
            write_smi(args.n, library_path)
        generate_s = time.perf_counter() - t
        if args.input:
            with library_path.open() as f:
                n = sum(1 for ln in f if ln.strip())
        else:
            n = args.n
        one_n = min(n, args.one_core_n or 100_000)
        prefix = Path(tmp) / "prefix.smi"
        with library_path.open() as src, prefix.open("w") as dst:
            dst.writelines(islice(src, one_n))
        with library_path.open() as f:
            sample = [ln.split()[0] for ln in islice(f, args.floor_n)]

        rt, settings = _open_index(tmp)
        index = rt.index()
        options = _options(settings)
        floor_before = floor(sample, settings)

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
        local, local_s, out_local = run("local", library_path, workers=cores)
        dask = dask_s = None
        if not args.no_dask:
            dask, dask_s, out_dask = run("dask", library_path, engine="dask", workers=cores)
        floor_after = floor(sample, settings)
        peak_rss, peak_child = (
            _peak_rss_mb(resource.RUSAGE_SELF),
            _peak_rss_mb(resource.RUSAGE_CHILDREN),
        )
        same = _same_rows(out_one, out_local) and (args.no_dask or _same_rows(out_dask, out_local))
        meta = pq.read_metadata(out_local)
        table = pq.read_table(out_local, columns=["error", "US_status"])
        rows = meta.num_rows
        errors = rows - table.column("error").null_count
        us = table.column("US_status").value_counts().to_pylist()
        rt.close()

    floor_rate = (floor_before + floor_after) / 2
    figures: dict[str, Any] = {
        "n": rows,
        "one_core_n": one_n,
        "cores": cores,
        "registry_substances": len(index.snapshot.substances),
        "generate_s": round(generate_s, 1),
        "errors": errors,
        "us_statuses": {str(d["values"]): d["counts"] for d in us},
        "outputs_identical": same,
        "floor_mol_per_s": round(floor_rate, 1),
        "floor_before_mol_per_s": round(floor_before, 1),
        "floor_after_mol_per_s": round(floor_after, 1),
        "one_core_mol_per_s": round(one, 1),
        "one_core_vs_floor": round(one / floor_rate, 2),
        "all_cores_mol_per_s": round(local, 1),
        "all_cores_vs_floor": round(local / floor_rate, 2),
        "all_cores_vs_target": round(local / (0.5 * cores * floor_rate), 2),
        "one_core_s": round(one_s, 1),
        "all_cores_s": round(local_s, 1),
        "peak_rss_mb": peak_rss,
        "peak_child_rss_mb": peak_child,
    }
    if dask is not None and dask_s is not None:
        figures |= {
            "dask_mol_per_s": round(dask, 1),
            "dask_vs_floor": round(dask / floor_rate, 2),
            "dask_vs_local": round(dask / local, 2),
            "dask_s": round(dask_s, 1),
        }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{cores} cores; registry of {figures['registry_substances']} substances; "
        f"{rows:,} structures ({errors} unreadable); outputs identical: {same}"
    )
    print(
        f"floor (parse + standardize + InChIKey + fingerprint, one core): {floor_rate:,.0f} mol/s "
        f"(before the screens {floor_before:,.0f}, after {floor_after:,.0f})\n"
    )
    table_rows = [
        (f"one core, first {one_n:,}", f"{one_s:,.1f}", f"{one:,.0f}", f"{one / floor_rate:.2f}"),
        (
            f"{cores} local workers, all",
            f"{local_s:,.1f}",
            f"{local:,.0f}",
            f"{local / floor_rate:.2f}",
        ),
    ]
    if dask is not None and dask_s is not None:
        table_rows.append(
            (
                f"Dask, {cores} workers, all",
                f"{dask_s:,.1f}",
                f"{dask:,.0f}",
                f"{dask / floor_rate:.2f}",
            )
        )
    print(_table(table_rows, ("run", "seconds", "mol/s", "x floor")))
    print(
        f"\nevery core vs 0.5 x cores x floor: {figures['all_cores_vs_target']}"
        + (f"; Dask vs local: {figures['dask_vs_local']}" if dask is not None else "")
    )
    print(f"peak RSS: client {peak_rss:,.0f} MB, largest local worker {peak_child:,.0f} MB")
    print(f"US statuses: {figures['us_statuses']}")


if __name__ == "__main__":
    main()
