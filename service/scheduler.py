"""The one place periodic jobs are registered: an APScheduler 3 BackgroundScheduler (UTC).

Jobs are declared beside their domain (`service/reports/jobs.py`) and listed here. Each
firing is coalesced (a backlog runs once), never runs twice at the same time in one
process, and takes a lease in the database so several API workers run it once.
"""

from __future__ import annotations

from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from service import leases
from service.check.index import WatchIndex
from service.config import Settings
from service.reports import jobs as report_jobs
from service.webhooks import jobs as webhook_jobs

JOBS = (*report_jobs.JOBS, *webhook_jobs.JOBS)


def build_scheduler(
    engine: Engine,
    settings: Settings,
    index: Callable[[], WatchIndex],
    *,
    holder: str | None = None,
) -> BackgroundScheduler:
    """A scheduler with every job added (not started); `holder` names this process's leases,
    `index` gives the process's current watch index."""
    who = holder or leases.holder_id()
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            job.func,
            trigger=job.trigger(settings),
            args=(engine, settings, who, index),
            id=job.id,
            name=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(job.misfire_grace_time.total_seconds()),
            replace_existing=True,
        )
    return scheduler


def start_scheduler(
    engine: Engine, settings: Settings, index: Callable[[], WatchIndex]
) -> BackgroundScheduler:
    """Build and start the scheduler (a daemon thread)."""
    scheduler = build_scheduler(engine, settings, index)
    scheduler.start()
    return scheduler
