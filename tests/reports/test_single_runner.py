"""One runner: two schedulers (two engines, one database) run a firing of the report once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.date import DateTrigger
from ingestkit import index_for, settings_for
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import leases, migrate
from service.db import make_engine
from service.models import JobLease, Report
from service.registry.loader import load_registry
from service.reports.jobs import LEASE, lookalike_report_job
from service.scheduler import build_scheduler


def _reports(engine: Engine) -> list[Report]:
    with Session(engine) as session:
        return list(session.execute(select(Report)).scalars())


def test_two_schedulers_run_a_firing_once(database_url: str, registry_dir: Path) -> None:
    migrate.upgrade(database_url)
    engines = [make_engine(database_url), make_engine(database_url)]
    load_registry(engines[0], registry_dir)
    settings = settings_for(engines[0], registry_dir)
    fire_at = datetime.now(UTC) + timedelta(seconds=2)
    events: dict[int, JobExecutionEvent] = {}
    done = threading.Semaphore(0)

    def listener_for(i: int):  # type: ignore[no-untyped-def]
        def listener(event: JobExecutionEvent) -> None:
            events[i] = event
            done.release()

        return listener

    schedulers = []
    for i, eng in enumerate(engines):
        s = build_scheduler(eng, settings, index_for(eng, settings), holder=f"worker-{i}")
        # the cron trigger from the settings, swapped for one firing at the same instant in both
        s.start(paused=True)
        s.reschedule_job("lookalike_report", trigger=DateTrigger(run_date=fire_at))
        s.add_listener(listener_for(i), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        schedulers.append(s)
    try:
        for s in schedulers:
            s.resume()
        for _ in schedulers:
            assert done.acquire(timeout=60), "a scheduler never fired"
    finally:
        for s in schedulers:
            s.shutdown(wait=True)
    assert [events[i].exception for i in (0, 1)] == [None, None]
    ran = [i for i in (0, 1) if events[i].retval is True]
    assert len(ran) == 1 and events[1 - ran[0]].retval is False  # one ran, the other skipped
    runs = _reports(engines[0])
    assert len(runs) == 1
    assert (runs[0].status, runs[0].trigger) == ("succeeded", "schedule")
    with Session(engines[0]) as session:
        lease = session.get(JobLease, LEASE)
        assert lease is not None
        assert lease.holder == f"worker-{ran[0]}"
        # held past the firing's misfire grace time, so a late twin cannot run it again
        expires = lease.expires_at
        expires = (
            expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires
        )  # SQLite: naive UTC
        assert expires > fire_at + timedelta(minutes=59)
    for eng in engines:
        eng.dispose()


def test_a_late_twin_does_not_run_the_same_firing(engine: Engine, registry_dir: Path) -> None:
    load_registry(engine, registry_dir)
    settings = settings_for(engine, registry_dir)
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert lookalike_report_job(engine, settings, "worker-a", index_for(engine, settings)) is True
        # the other worker's scheduler fires a little later (within the misfire grace time)
        assert lookalike_report_job(other, settings, "worker-b", index_for(other, settings)) is False
        assert len(_reports(engine)) == 1
        # the next firing, hours later, finds the lease expired
        later = datetime.now(UTC) + timedelta(hours=2)
        assert leases.acquire(other, LEASE, "worker-b", ttl=timedelta(minutes=5), now=later) is True
    finally:
        other.dispose()


def test_lease_race_has_one_winner(database_url: str) -> None:
    migrate.upgrade(database_url)
    n = 6
    engines = [make_engine(database_url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: dict[int, bool] = {}

    def contend(i: int) -> None:
        barrier.wait()
        results[i] = leases.acquire(engines[i], "race", f"w{i}", ttl=timedelta(minutes=5))

    def race() -> list[int]:
        results.clear()
        threads = [threading.Thread(target=contend, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return [i for i, won in results.items() if won]

    first = race()  # no row yet: the INSERT decides
    assert len(first) == 1 and len(results) == n
    assert race() == []  # held: nobody else gets it
    assert leases.release(engines[first[0]], "race", f"w{first[0]}") is True
    time.sleep(0.01)
    second = race()  # expired: the conditional UPDATE decides
    assert len(second) == 1
    with Session(engines[0]) as session:
        assert session.execute(select(func.count()).select_from(JobLease)).scalar_one() == 1
        assert session.get(JobLease, "race").holder == f"w{second[0]}"  # type: ignore[union-attr]
    for eng in engines:
        eng.dispose()
