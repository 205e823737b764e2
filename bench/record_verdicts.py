"""Record the verdicts of a screen of 10,000 library structures, to pin them across speed-ups.

    python bench/record_verdicts.py [--n 10000] [--workers W]

Screens the first N structures of the combinatorial library (bench/library.py) against the
shipped registry (`schedules/`), exactly as `analogwatch screen` does (every jurisdiction, as
of AS_OF, the thresholds pinned below), and writes

  tests/fixtures/screen_recorded/verdicts.parquet   the screen's output, one row per record:
                                                    row, id, input (the SMILES), smiles,
                                                    inchikey, error and, per jurisdiction,
                                                    status, match, citation, reasons,
                                                    nearest, similarity
  tests/fixtures/screen_recorded/manifest.json      what was screened: options, registry
                                                    digest, RDKit and analogwatch versions,
                                                    status counts

When a recording exists it first prints how the new verdicts differ from it, so the
regeneration can be reviewed like code.

When to run it: the recording is made from the shipped registry, so a deliberate change to
`schedules/` (a new substance, act or class) moves some verdicts, and
tests/screen/test_recorded_verdicts.py fails, naming the registry digests. Run this script,
read the differences it prints, and commit both files with the registry change. A change to
the service's code must never need it: that is what the recording guards.
tests/screen/test_recorded_verdicts.py screens all N again on every core and compares.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import rdkit

sys.path.insert(0, str(Path(__file__).parent))
from library import library

from service import __version__, runtime
from service.check.index import WatchIndex
from service.check.service import DEFAULT_ELSEWHERE_THRESHOLD, DEFAULT_THRESHOLD, CheckOptions
from service.config import Settings
from service.paths import schedules_dir
from service.screen.io import MAX_INPUT_CHARS
from service.screen.run import ScreenJob, run_screen

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "screen_recorded"
VERDICTS = RECORDED / "verdicts.parquet"
MANIFEST = RECORDED / "manifest.json"
N = 10_000
AS_OF = date(2026, 12, 1)  # fixed: the recording must not move with the calendar


def options_of(manifest: dict[str, Any]) -> CheckOptions:
    """The check options a recording was made with."""
    o = manifest["options"]
    return CheckOptions(
        as_of=date.fromisoformat(o["as_of"]),
        jurisdictions=tuple(o["jurisdictions"]),
        threshold=o["threshold"],
        elsewhere_threshold=o["elsewhere_threshold"],
        top_k=o["top_k"],
    )


def load() -> tuple[pa.Table, dict[str, Any]]:
    """The recorded screen output and its manifest."""
    return pq.read_table(VERDICTS), json.loads(MANIFEST.read_text())


@contextmanager
def shipped_index() -> Iterator[WatchIndex]:
    """A watch index over the shipped registry, in a scratch SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/registry.db", schedules_dir=schedules_dir()
        )
        rt = runtime.open_writable(settings)
        try:
            yield rt.index_holder.rebuild()
        finally:
            rt.close()


def screen(
    index: WatchIndex,
    recorded: pa.Table,
    options: CheckOptions,
    *,
    workers: int = 1,
    chunk_size: int = 1000,
) -> pa.Table:
    """Screen the inputs of (some rows of) a recording again, as `analogwatch screen` does.

    The rows keep their recorded `row` numbers, so the result compares with `recorded`.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "library.smi", Path(tmp) / "out.parquet"
        ids, inputs = recorded.column("id").to_pylist(), recorded.column("input").to_pylist()
        source.write_text("".join(f"{s} {i}\n" for s, i in zip(inputs, ids, strict=True)))
        job = ScreenJob(
            source=source, out=out, options=options, chunk_size=chunk_size, workers=workers
        )
        run_screen(index, job)
        table = pq.read_table(out)
    return table.set_column(0, "row", recorded.column("row"))


def differences(recorded: pa.Table, now: pa.Table, *, limit: int = 10) -> list[str]:
    """What differs between two screen outputs: per column the count, then the first rows.

    Columns added after the recorded ones (a new output column) are named, and the recorded
    columns are still compared cell by cell, so a recording made for the new column shows
    whether anything else moved."""
    lines: list[str] = []
    names = recorded.schema.names
    if recorded.schema != now.schema:
        added = now.schema.names[len(names) :]
        if now.schema.names[: len(names)] != names or any(
            recorded.schema.field(n) != now.schema.field(n) for n in names
        ):
            return [f"columns differ: recorded {names}, now {now.schema.names}"]
        lines.append(f"columns added: {added}")
    if recorded.num_rows != now.num_rows:
        return [f"rows differ: recorded {recorded.num_rows}, now {now.num_rows}"]
    examples: list[str] = []
    rows = recorded.column("row").to_pylist()
    for name in names:
        a, b = recorded.column(name), now.column(name)
        same = pc.fill_null(pc.equal(a, b), False)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        diff = pc.invert(pc.or_(same, both_null)).to_pylist()
        count = sum(diff)
        if not count:
            continue
        lines.append(f"{name}: {count} rows differ")
        av, bv = a.to_pylist(), b.to_pylist()
        for i in [i for i, d in enumerate(diff) if d][:limit]:
            examples.append(f"  row {rows[i]} {name}: recorded {av[i]!r}, now {bv[i]!r}")
    return lines + examples[:limit]


def _counts(table: pa.Table, codes: list[str]) -> dict[str, Any]:
    counts: dict[str, Any] = {"errors": table.num_rows - table.column("error").null_count}
    for code in codes:
        tally = pc.value_counts(table.column(f"{code}_status")).to_pylist()
        counts[code] = {str(d["values"]): d["counts"] for d in tally if d["values"] is not None}
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=N, help=f"structures (default {N:,})")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    smiles = list(library(args.n))
    too_long = [i for i, s in enumerate(smiles) if len(s) > MAX_INPUT_CHARS]
    if too_long:  # the output's `input` column is the recording's only copy of the input
        raise SystemExit(f"structures {too_long[:5]} are longer than {MAX_INPUT_CHARS} characters")
    inputs = pa.table(
        {
            "row": pa.array(range(args.n), pa.int64()),
            "id": [f"lib-{i}" for i in range(args.n)],
            "input": smiles,
        }
    )
    with shipped_index() as index:
        codes = sorted(index.snapshot.jurisdictions)
        options = CheckOptions(
            as_of=AS_OF,
            jurisdictions=tuple(codes),
            threshold=DEFAULT_THRESHOLD,
            elsewhere_threshold=DEFAULT_ELSEWHERE_THRESHOLD,
        )
        table = screen(index, inputs, options, workers=args.workers)
        digest = index.snapshot.digest
        substances, classes = len(index.snapshot.substances), len(index.snapshot.classes)

    if VERDICTS.exists():
        old, old_manifest = load()
        if old_manifest["registry"]["digest"] != digest:
            print(f"registry: {old_manifest['registry']['digest']} -> {digest}")
        same_size = old.num_rows == table.num_rows
        diff = differences(old, table) if same_size else ["size changed"]
        print("\n".join(diff) if diff else "verdicts unchanged")

    RECORDED.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, VERDICTS, compression="zstd", compression_level=9)
    manifest = {
        "generator": f"bench/library.py: the first {args.n} structures, ids lib-<i>",
        "rows": table.num_rows,
        "options": {
            "as_of": AS_OF.isoformat(),
            "jurisdictions": codes,
            "threshold": options.threshold,
            "elsewhere_threshold": options.elsewhere_threshold,
            "top_k": options.top_k,
        },
        "registry": {"digest": digest, "substances": substances, "classes": classes},
        "analogwatch": __version__,
        "rdkit": rdkit.__version__,
        "pyarrow": pa.__version__,
        "counts": _counts(table, codes),
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    size = VERDICTS.stat().st_size
    print(f"wrote {table.num_rows:,} rows to {VERDICTS} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
