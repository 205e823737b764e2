"""Job leases: which process may run a periodic job now (one runner across API workers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from service.models.common import utcnow


class JobLease(SQLModel, table=True):
    """A named lease: `holder` owns the job until `expires_at` (UTC)."""

    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    acquired_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
