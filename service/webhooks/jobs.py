"""The webhooks' periodic job: send due deliveries every `webhook_dispatch_seconds`.

Every API worker may run it: a delivery is claimed by a conditional UPDATE before it is
sent, so two dispatchers never send the same delivery at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from service.check.index import WatchIndex
from service.config import Settings
from service.reports.jobs import JobSpec
from service.webhooks import service

log = logging.getLogger("analogwatch.jobs")


def dispatch_trigger(settings: Settings) -> BaseTrigger:
    """Every `webhook_dispatch_seconds`."""
    return IntervalTrigger(seconds=settings.webhook_dispatch_seconds, timezone="UTC")


def webhook_dispatch_job(
    engine: Engine, settings: Settings, holder: str, index: Callable[[], WatchIndex]
) -> bool:
    """Send the due webhook deliveries this process can claim; True when one was delivered."""
    delivered = service.dispatch_due(engine, settings, holder=holder)
    if delivered:
        log.info("webhooks: %d delivered", delivered)
    return delivered > 0


JOBS = (
    JobSpec(
        id="webhook_dispatch",
        trigger=dispatch_trigger,
        func=webhook_dispatch_job,
        misfire_grace_time=timedelta(minutes=1),
    ),
)
