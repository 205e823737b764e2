"""Leases in the database: at most one process runs a periodic job at a time.

A lease row (`job_leases`: name, holder, expires_at) is taken by one atomic statement:
an UPDATE that succeeds only when the lease has expired, or, when there is no row yet, an
INSERT that the primary key lets only one process win. Both work alike on SQLite (writes
are serialized) and PostgreSQL (the second UPDATE re-reads the row after the first commits
and no longer matches). A holder that dies simply lets its lease run out.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from service.models import JobLease
from service.models.common import utcnow

_table = JobLease.__table__  # type: ignore[attr-defined]


def holder_id() -> str:
    """A name for this process that is unique across hosts: host, pid and a random part."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(
    engine: Engine, name: str, holder: str, *, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take the lease `name` for `ttl` if it is free or expired; True when this holder has it."""
    now = now or utcnow()
    expires = now + ttl
    with engine.begin() as conn:
        taken = conn.execute(
            update(_table)
            .where(_table.c.name == name, _table.c.expires_at <= now)
            .values(holder=holder, expires_at=expires, acquired_at=now)
        ).rowcount
    if taken == 1:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(_table).values(name=name, holder=holder, expires_at=expires, acquired_at=now)
            )
    except IntegrityError:
        return False  # another holder has it (or took it a moment ago)
    return True


def hold_until(engine: Engine, name: str, holder: str, until: datetime) -> bool:
    """Keep (or shorten) a lease this holder has until a given time; False if it lost it."""
    with engine.begin() as conn:
        n = conn.execute(
            update(_table)
            .where(_table.c.name == name, _table.c.holder == holder)
            .values(expires_at=until)
        ).rowcount
    return n == 1


def release(engine: Engine, name: str, holder: str) -> bool:
    """Give the lease up now (expire it) if this holder has it."""
    return hold_until(engine, name, holder, utcnow())
