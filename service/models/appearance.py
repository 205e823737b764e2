"""Appearances: first reports of a substance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from service.models.common import Origin, Precision, ReporterType, in_list, utcnow


class Appearance(SQLModel, table=True):
    """A first report: `reported_date` is the first day of the period its precision names."""

    __tablename__ = "appearances"
    __table_args__ = (
        UniqueConstraint(
            "substance_id", "reported_date", "reported_precision", "place", "reporter_type"
        ),
        CheckConstraint(in_list("reported_precision", Precision), name="reported_precision"),
        CheckConstraint(in_list("reporter_type", ReporterType), name="reporter_type"),
        CheckConstraint(in_list("origin", Origin), name="origin"),
    )

    id: int | None = Field(default=None, primary_key=True)
    substance_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("substances.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    reported_date: date
    reported_precision: str = Field(max_length=5)
    place: str = Field(max_length=8)
    reporter_type: str = Field(max_length=20)
    reporter: str = Field(default="", max_length=300)
    source: str = Field(max_length=2000)
    notes: str = Field(default="", max_length=4000)
    origin: str = Field(default=Origin.registry.value, max_length=20)
    verdicts: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
