"""Registry loads: one row per load of schedules/ into the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

from service.models.common import utcnow


class RegistryLoad(SQLModel, table=True):
    """When the registry was loaded, from which files (SHA-256 each) and what it changed."""

    __tablename__ = "registry_loads"

    id: int | None = Field(default=None, primary_key=True)
    loaded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    directory: str = Field(max_length=1000)
    digest: str = Field(max_length=64, index=True)
    checksums: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
