"""The scheduler: registered jobs, cron from the settings in UTC, and on only when enabled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from fastapi.testclient import TestClient
from ingestkit import index_for, settings_for
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from service.app import create_app
from service.config import Settings
from service.cron import cron_trigger, crontab_weekdays
from service.scheduler import build_scheduler


def test_report_job_uses_the_cron_setting(sqlite_engine: Engine, registry_dir: Path) -> None:
    settings = settings_for(sqlite_engine, registry_dir, report_cron="30 5 * * 2")
    scheduler = build_scheduler(sqlite_engine, settings, index_for(sqlite_engine, settings), holder="me")
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("lookalike_report")
        assert isinstance(job.trigger, CronTrigger)
        assert str(job.trigger.timezone) == "UTC"
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["minute"], fields["hour"], fields["day_of_week"]) == (
            "30",
            "5",
            "tue",
        )  # crontab 2
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 3600
        assert job.args[2] == "me"
    finally:
        scheduler.shutdown(wait=False)


def test_default_is_monday_0600_utc_in_crontab_numbering() -> None:
    # APScheduler 3 numbers weekdays from Monday = 0; crontab from Sunday = 0
    trigger = cron_trigger(Settings.model_fields["report_cron"].default)
    after = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday, after 06:00
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert crontab_weekdays("0") == crontab_weekdays("7") == "sun"
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("sat,sun") == "sun,sat"
    with pytest.raises(ValueError):
        crontab_weekdays("8")
    with pytest.raises(ValidationError):
        Settings(report_cron="0 6 * * 9")


def test_scheduler_runs_only_when_enabled(sqlite_engine: Engine, registry_dir: Path) -> None:
    with TestClient(
        create_app(settings_for(sqlite_engine, registry_dir), engine=sqlite_engine)
    ) as c:
        assert c.app.state.scheduler is None  # type: ignore[attr-defined]
    on = settings_for(sqlite_engine, registry_dir).model_copy(update={"scheduler": True})
    with TestClient(create_app(on, engine=sqlite_engine)) as c:
        scheduler = c.app.state.scheduler  # type: ignore[attr-defined]
        assert scheduler.running
        assert sorted(j.id for j in scheduler.get_jobs()) == ["lookalike_report", "webhook_dispatch"]
    assert not scheduler.running
