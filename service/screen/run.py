"""Run a screen: chunks in flight on local processes or a Dask cluster, parts, manifest, resume.

Layout while running, beside the output `RESULTS.parquet`:

    RESULTS.parquet.parts/manifest.json     what is being screened (input file identity,
                                            options, registry version, chunk size)
    RESULTS.parquet.parts/part-000042.parquet   chunk 42, written atomically when finished

A restart with the same manifest skips every chunk whose part exists; a different input,
option or registry refuses to mix results (unless `fresh`). When all chunks are done the
parts are concatenated, in input order, into the output and the directory is removed.

Memory is bounded: at most `2 x workers + 2` chunks are read ahead and in flight, and the
final concatenation streams one part at a time.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing as mp
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from service import __version__
from service.check.batch import Item, Outcome, check_item
from service.check.index import WatchIndex
from service.check.service import CheckOptions
from service.errors import AnalogwatchError
from service.registry.snapshot import Snapshot
from service.screen import io

# 2: rows gained the caveats columns, 3: the excluded_by columns (older parts have the old schema)
MANIFEST_VERSION = 3
SCATTER_TIMEOUT_S = 120  # broadcasting the registry snapshot to every worker
Chunk = tuple[int, int, list[Item]]  # (chunk number, first row, records)
Part = tuple[int, pa.Table]  # (chunk number, its output rows): what a worker sends back


@dataclass(frozen=True, slots=True)
class ScreenJob:
    """What to screen, where to write it, and on which engine."""

    source: Path
    out: Path
    options: CheckOptions
    chunk_size: int = 1000
    engine: str = "local"  # local | dask
    workers: int | None = None  # local: processes (default every core); dask: LocalCluster size
    scheduler: str | None = None  # dask: address of an existing cluster
    fresh: bool = False  # discard the parts of an earlier, different run


@dataclass(slots=True)
class ScreenSummary:
    """What a run did."""

    out: Path
    rows: int = 0
    errors: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    caveats: dict[str, int] = field(default_factory=dict)  # rows with a caveat, per jurisdiction
    # rows the law of the jurisdiction names as excluded from a schedule, per jurisdiction
    excluded: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    chunks_skipped: int = 0
    seconds: float = 0.0
    workers: int = 1
    engine: str = "local"

    @property
    def mol_per_s(self) -> float:
        """Records screened per second in this run (skipped chunks excluded)."""
        return self.screened / self.seconds if self.seconds else 0.0

    screened: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON output."""
        return {
            "out": str(self.out),
            "rows": self.rows,
            "errors": self.errors,
            "flagged": self.flagged,
            "caveats": self.caveats,
            "excluded": self.excluded,
            "chunks": self.chunks,
            "chunks_skipped": self.chunks_skipped,
            "screened": self.screened,
            "seconds": round(self.seconds, 3),
            "mol_per_s": round(self.mol_per_s, 1),
            "engine": self.engine,
            "workers": self.workers,
        }


def screen_rows(index: WatchIndex, chunk: Chunk, options: CheckOptions) -> Part:
    """Check one chunk; every record gives a row, a bad one with its reason in `error`.

    The rows come back as one Arrow table: a worker sends a few column buffers to the
    client, not a thousand dictionaries.
    """
    number, first, items = chunk
    codes = options.jurisdictions or ()
    outcomes = []
    for item in items:
        try:
            result = check_item(index, item, options)
        except Exception as exc:  # never stop a library run on one record
            result = Outcome(item.id, error=f"internal error: {type(exc).__name__}: {exc}")
        outcomes.append(result)
    return number, io.table(first, items, outcomes, codes)


def chunks(items: Iterable[Item], size: int) -> Iterator[Chunk]:
    """Number the records and cut them into chunks of `size`."""
    batch: list[Item] = []
    number = first = 0
    for n, it in enumerate(items):
        if not batch:
            first = n
        batch.append(it)
        if len(batch) >= size:
            yield number, first, batch
            number, batch = number + 1, []
    if batch:
        yield number, first, batch


# --- parts and manifest ------------------------------------------------------------


def parts_dir(out: Path) -> Path:
    """Directory of the part files and manifest of a run writing `out`."""
    return out.with_name(out.name + ".parts")


def _part(parts: Path, number: int) -> Path:
    return parts / f"part-{number:06d}.parquet"


def _manifest(job: ScreenJob, index: WatchIndex) -> dict[str, Any]:
    st = job.source.stat()
    o = job.options
    return {
        "version": MANIFEST_VERSION,
        "input": {
            "path": str(job.source.resolve()),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        },
        "chunk_size": job.chunk_size,
        "options": {
            "as_of": o.as_of.isoformat(),
            "jurisdictions": list(o.jurisdictions or ()),
            "threshold": o.threshold,
            "top_k": o.top_k,
        },
        "registry": {"digest": index.snapshot.digest, "version": index.version},
        "fingerprint": {"radius": index.radius, "bits": index.bits},
    }


def _prepare_parts(job: ScreenJob, index: WatchIndex) -> tuple[Path, set[int]]:
    """Create or reopen the parts directory; return it and the chunk numbers already done."""
    parts = parts_dir(job.out)
    manifest = _manifest(job, index)
    path = parts / "manifest.json"
    if parts.exists() and job.fresh:
        shutil.rmtree(parts)
    if parts.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old != manifest:
            raise AnalogwatchError(
                f"{parts} holds an unfinished screen of other input, options or registry; "
                "remove it or pass --fresh to start over"
            )
        done = {int(p.stem.split("-")[1]) for p in parts.glob("part-*.parquet")}
        return parts, done
    parts.mkdir(parents=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, path)
    return parts, set()


def _write_part(parts: Path, number: int, rows: pa.Table) -> None:
    tmp = parts / f".part-{number:06d}.tmp"
    pq.write_table(rows, tmp)
    os.replace(tmp, _part(parts, number))  # atomic: a part exists only when complete


ROW_GROUP_ROWS = 65_536
"""Rows per row group of the merged output. A writer holds the metadata of every row group
it wrote until it closes, so one group per chunk (1,000 rows) made the peak memory of a
million-row screen grow with its length; groups of this size keep it flat (and suit readers)."""


def _merge(parts: Path, out: Path, count: int, codes: tuple[str, ...]) -> None:
    tmp = out.with_name(out.name + ".tmp")
    pending: list[pa.Table] = []
    rows = 0
    with pq.ParquetWriter(tmp, io.schema(codes)) as writer:
        for number in range(count):
            part = pq.read_table(_part(parts, number))
            pending.append(part)
            rows += part.num_rows
            if rows >= ROW_GROUP_ROWS:
                writer.write_table(pa.concat_tables(pending), row_group_size=rows)
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=rows)
    os.replace(tmp, out)
    shutil.rmtree(parts)


# --- engines -----------------------------------------------------------------------


class _Inline:
    """One process, no pool: the one-core figure and small runs."""

    slots = 1

    def __init__(self, index: WatchIndex, options: CheckOptions) -> None:
        self.index, self.options = index, options

    def submit(self, chunk: Chunk) -> Part:
        return screen_rows(self.index, chunk, self.options)

    def first_done(self, pending: deque[Any]) -> Part:
        result: Part = pending.popleft()
        return result

    def close(self) -> None:
        pass


_local_state: tuple[WatchIndex, CheckOptions] | None = None


def _local_task(chunk: Chunk) -> Part:
    assert _local_state is not None
    return screen_rows(_local_state[0], chunk, _local_state[1])


def _import_once(name: str) -> None:
    """Import an optional module in the parent, so forked workers share it."""
    with contextlib.suppress(ImportError):
        importlib.import_module(name)


class _LocalPool:
    """Fork workers that inherit the index (built once in the parent, never pickled)."""

    def __init__(self, index: WatchIndex, options: CheckOptions, processes: int) -> None:
        global _local_state
        _local_state = (index, options)
        _import_once("pandas")  # pyarrow imports it on its first conversion: once, not per worker
        # forked before any input is read, so no reader thread is copied into the workers
        self.pool = mp.get_context("fork").Pool(processes)
        self.slots = processes

    def submit(self, chunk: Chunk) -> Any:
        return self.pool.apply_async(_local_task, (chunk,))

    def first_done(self, pending: deque[Any]) -> Part:
        result: Part = pending.popleft().get()  # in submission order
        return result

    def close(self) -> None:
        global _local_state
        self.pool.terminate()
        self.pool.join()
        _local_state = None


# each Dask worker process builds the index once per registry version and keeps it
_worker_indexes: dict[tuple[str, int, int], WatchIndex] = {}
_worker_lock = threading.Lock()


def worker_index(snapshot: Snapshot, token: str, radius: int, bits: int) -> WatchIndex:
    """The index of a snapshot in this worker process, built on first use."""
    key = (token, radius, bits)
    with _worker_lock:
        index = _worker_indexes.get(key)
        if index is None:
            _worker_indexes.clear()  # one registry version at a time
            index = WatchIndex.build(snapshot, version=token, radius=radius, bits=bits)
            _worker_indexes[key] = index
    return index


def _worker_version() -> str:
    """The analogwatch version a Dask worker imports."""
    version: str = importlib.import_module("service").__version__
    return version


def _dask_task(
    snapshot: Snapshot, token: str, radius: int, bits: int, options: CheckOptions, chunk: Chunk
) -> Part:
    return screen_rows(worker_index(snapshot, token, radius, bits), chunk, options)


class _Dask:
    """Chunks as tasks on a dask.distributed cluster; the snapshot is broadcast once."""

    def __init__(
        self, index: WatchIndex, options: CheckOptions, scheduler: str | None, workers: int | None
    ) -> None:
        try:  # typed as Any: distributed ships without type hints
            dist: Any = importlib.import_module("distributed")
        except ImportError:  # pragma: no cover - depends on the install
            raise AnalogwatchError(
                "--engine dask needs dask.distributed: pip install 'analogwatch[dask]'"
            ) from None
        self.cluster: Any = None
        self.wait = dist.wait
        if scheduler:
            self.client = dist.Client(scheduler, timeout=30)
        else:
            n = workers or os.cpu_count() or 1
            self.cluster = dist.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = dist.Client(self.cluster)
        self.options = options
        self.radius, self.bits = index.radius, index.bits
        try:
            self._check_workers()
            # a token unique to this registry version: workers key their index cache on it
            self.token = f"{index.snapshot.digest}:{index.version}"
            # a worker that cannot unpickle the snapshot would retry for ever: bound the wait
            self.snapshot = self.client.scatter(
                index.snapshot, broadcast=True, timeout=SCATTER_TIMEOUT_S
            )
        except BaseException:
            self.close()
            raise
        self.slots = max(1, sum(self.client.nthreads().values()))

    def _check_workers(self) -> None:
        """Refuse a cluster whose workers run another analogwatch version (or none)."""
        if not self.client.nthreads():
            raise AnalogwatchError("the Dask cluster has no workers")
        found = self.client.run(_worker_version)
        wrong = {addr: v for addr, v in found.items() if v != __version__}
        if wrong:
            listed = ", ".join(f"{addr}: {v}" for addr, v in sorted(wrong.items()))
            raise AnalogwatchError(
                f"Dask workers must run analogwatch {__version__} like this client; found {listed}"
            )

    def submit(self, chunk: Chunk) -> Any:
        return self.client.submit(
            _dask_task,
            self.snapshot,
            self.token,
            self.radius,
            self.bits,
            self.options,
            chunk,
            pure=False,
        )

    def first_done(self, pending: deque[Any]) -> Part:
        done = self.wait(list(pending), return_when="FIRST_COMPLETED").done
        future = next(f for f in pending if f in done)
        pending.remove(future)
        result: Part = future.result()
        future.release()
        return result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# --- the run -----------------------------------------------------------------------


def screen_options(options: CheckOptions, codes: tuple[str, ...]) -> CheckOptions:
    """The options a screen checks with: the jurisdictions `codes`, one neighbour each.

    A row keeps the nearest neighbour only, so the check ranks none past it; the statuses,
    matches and reasons do not depend on how many are kept.
    """
    return replace(options, jurisdictions=codes, top_k=1)


def run_screen(
    index: WatchIndex,
    job: ScreenJob,
    *,
    progress: Callable[[int], None] | None = None,
) -> ScreenSummary:
    """Screen `job.source` into `job.out`; resumable; `progress(n)` after every chunk."""
    if job.chunk_size < 1:
        raise AnalogwatchError("chunk size must be at least 1")
    if job.engine not in ("local", "dask"):
        raise AnalogwatchError(f"unknown engine {job.engine!r}; use local or dask")
    codes = tuple(job.options.jurisdictions or sorted(index.snapshot.jurisdictions))
    options = screen_options(job.options, codes)
    job = replace(job, options=options)
    parts, done = _prepare_parts(job, index)
    summary = ScreenSummary(
        out=job.out,
        engine=job.engine,
        flagged=dict.fromkeys(codes, 0),
        caveats=dict.fromkeys(codes, 0),
        excluded=dict.fromkeys(codes, 0),
    )

    if job.engine == "dask":
        engine: Any = _Dask(index, options, job.scheduler, job.workers)
    else:
        n = job.workers or os.cpu_count() or 1
        engine = _Inline(index, options) if n <= 1 else _LocalPool(index, options, n)
    summary.workers = engine.slots

    def finish(result: Part) -> None:
        number, rows = result
        _write_part(parts, number, rows)
        summary.screened += rows.num_rows
        if progress:
            progress(rows.num_rows)

    t0 = time.perf_counter()
    count = 0
    try:
        pending: deque[Any] = deque()
        window = 2 * engine.slots + 2
        for chunk in chunks(io.iter_records(job.source), job.chunk_size):
            count += 1
            if chunk[0] in done:
                summary.chunks_skipped += 1
                if progress:
                    progress(len(chunk[2]))
                continue
            pending.append(engine.submit(chunk))
            while len(pending) >= window:
                finish(engine.first_done(pending))
        while pending:
            finish(engine.first_done(pending))
    finally:
        engine.close()
    summary.seconds = time.perf_counter() - t0
    summary.chunks = count
    _merge(parts, job.out, count, codes)
    _tally(summary, codes)
    return summary


def _tally(summary: ScreenSummary, codes: tuple[str, ...]) -> None:
    """Count rows, errors, flagged compounds, caveats and exclusions from the output, streaming
    its batches."""
    pf = pq.ParquetFile(summary.out)
    columns = (
        ["error"]
        + [f"{c}_status" for c in codes]
        + [f"{c}_caveats" for c in codes]
        + [f"{c}_excluded_by" for c in codes]
    )
    # counted in Arrow's buffers: a Python object per cell of a 65,536-row batch raised the
    # peak memory of every screen past that size by tens of megabytes
    for batch in pf.iter_batches(columns=columns, batch_size=65_536):
        summary.rows += batch.num_rows
        errors = batch.column(0)
        summary.errors += len(errors) - errors.null_count
        for i, c in enumerate(codes, start=1):
            status = batch.column(i)
            quiet = pc.sum(pc.equal(status, "not_flagged")).as_py() or 0  # nulls not counted
            summary.flagged[c] += len(status) - status.null_count - quiet
            caveats = batch.column(len(codes) + i)
            summary.caveats[c] += len(caveats) - caveats.null_count
            excluded = batch.column(2 * len(codes) + i)
            summary.excluded[c] += len(excluded) - excluded.null_count
