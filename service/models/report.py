"""Reports: stored runs of periodic jobs (the lookalike report), successful or failed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from service.models.common import in_list, utcnow


class ReportStatus(StrEnum):
    """How a run ended."""

    succeeded = "succeeded"
    failed = "failed"


class Report(SQLModel, table=True):
    """One run of a report job: its parameters, when it ran, and its results or its error.

    A failed run is a row too (status `failed`, `error` set, no results), so the previous
    successful report stays the latest one and the failure is on record.
    """

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(in_list("status", ReportStatus), name="status"),
        Index("ix_reports_kind_status_id", "kind", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    status: str = Field(max_length=20)
    as_of: date
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, sa_column=Column(Text))
    previous_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="SET NULL"), nullable=True),
        description="the earlier successful report this one is compared with",
    )
    trigger: str = Field(default="manual", max_length=20)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    finished_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
