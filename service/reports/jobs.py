"""The reports' periodic jobs: the lookalike report on `settings.report_cron` (UTC).

Every API worker may run a scheduler; the job first takes the lease `lookalike_report` in
the database, so one worker runs it and the others skip that firing. After a run the
lease is kept until the misfire grace time of the firing has passed, so a worker whose
scheduler fires late (within the grace time) cannot run the same firing again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.engine import Engine

from service import leases
from service.check.index import WatchIndex
from service.config import Settings
from service.cron import cron_trigger
from service.models.common import utcnow
from service.reports import service

log = logging.getLogger("analogwatch.jobs")

LEASE = "lookalike_report"
MISFIRE_GRACE = timedelta(hours=1)  # a firing missed by up to an hour (a restart) still runs
RUN_TTL = timedelta(hours=1)  # a runner that dies mid-run frees the lease after this


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A periodic job: its id, its trigger from the settings, and what it runs."""

    id: str
    trigger: Callable[[Settings], BaseTrigger]
    func: Callable[[Engine, Settings, str, Callable[[], WatchIndex]], bool]
    misfire_grace_time: timedelta


def report_trigger(settings: Settings) -> BaseTrigger:
    """The cron trigger of the lookalike report, in UTC."""
    return cron_trigger(settings.report_cron, timezone="UTC")


def lookalike_report_job(
    engine: Engine, settings: Settings, holder: str, index: Callable[[], WatchIndex]
) -> bool:
    """Run the lookalike report if this holder gets the lease; True when it ran.

    `index` gives the process's current watch index (the composition root's)."""
    started = utcnow()
    if not leases.acquire(engine, LEASE, holder, ttl=RUN_TTL, now=started):
        log.info("lookalike report: another worker holds the lease; skipped")
        return False
    try:
        report = service.run_lookalikes(engine, settings, trigger="schedule", index=index)
        log.info("lookalike report %s: %s", report.id, report.status)
    finally:
        # keep the lease past this firing's grace time so a late twin cannot run it again
        leases.hold_until(engine, LEASE, holder, max(utcnow(), started + MISFIRE_GRACE))
    return True


JOBS = (
    JobSpec(
        id="lookalike_report",
        trigger=report_trigger,
        func=lookalike_report_job,
        misfire_grace_time=MISFIRE_GRACE,
    ),
)
