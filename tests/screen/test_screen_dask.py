"""The Dask engine on a LocalCluster of worker processes gives the local engine's output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from service.check.index import WatchIndex
from service.check.service import CheckOptions
from service.screen.run import ScreenJob, run_screen

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def test_dask_output_equals_local_output(
    screen_index: WatchIndex, library: Path, tmp_path: Path, cluster: object
) -> None:
    options = CheckOptions(as_of=date(2026, 1, 1))
    local = ScreenJob(
        source=library, out=tmp_path / "local.parquet", options=options, chunk_size=20, workers=1
    )
    run_screen(screen_index, local)
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    job = ScreenJob(
        source=library,
        out=tmp_path / "dask.parquet",
        options=options,
        chunk_size=20,
        engine="dask",
        scheduler=address,
    )
    summary = run_screen(screen_index, job)
    assert summary.workers == 2 and summary.engine == "dask"
    assert summary.rows == 116 and summary.errors == 3
    assert pq.read_table(job.out).equals(pq.read_table(local.out))

    # each worker built the index from the broadcast snapshot once, never from a database
    from service.screen import run as screen_run

    with distributed.Client(address) as client:
        held = client.run(
            lambda: [
                (k[0], len(v.snapshot.substances)) for k, v in screen_run._worker_indexes.items()
            ]
        )
    built = [v for v in held.values() if v]
    assert built and all(len(v) == 1 for v in built)
    assert {v[0][1] for v in built} == {len(screen_index.snapshot.substances)}

    # a second run reuses the workers' indexes (same registry token)
    again = run_screen(
        screen_index,
        ScreenJob(
            **{
                **{f: getattr(job, f) for f in job.__dataclass_fields__},
                "out": tmp_path / "again.parquet",
            }
        ),
    )
    assert again.rows == 116
    assert pq.read_table(tmp_path / "again.parquet").equals(pq.read_table(local.out))


def test_workers_of_another_version_are_refused_before_any_work(
    screen_index: WatchIndex, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster whose workers import another analogwatch is a clear error, not a hang on a
    snapshot they cannot read; no output is written."""
    import service
    from service.errors import AnalogwatchError

    # in-process workers see the patched package version; the client keeps its own
    monkeypatch.setattr(service, "__version__", "0.0.0-other")
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None
    ) as c:
        job = ScreenJob(
            source=library,
            out=tmp_path / "never.parquet",
            options=CheckOptions(as_of=date(2026, 1, 1)),
            engine="dask",
            scheduler=c.scheduler_address,
        )
        with pytest.raises(AnalogwatchError, match=r"must run analogwatch 0\.1\.0.*0\.0\.0-other"):
            run_screen(screen_index, job)
    assert not job.out.exists()
