"""Substances and their synonyms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from service.models.common import FAMILIES, Origin, in_list, utcnow


class Substance(SQLModel, table=True):
    """A chemical entity keyed by the InChIKey of its standardized parent."""

    __tablename__ = "substances"
    __table_args__ = (
        CheckConstraint(in_list("family", FAMILIES), name="family"),
        CheckConstraint(in_list("origin", Origin), name="origin"),
        CheckConstraint("length(connectivity) = 14", name="connectivity_length"),
        CheckConstraint("stereo IN ('', 'exact')", name="stereo"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=300, index=True)
    systematic_name: str = Field(default="", max_length=1000)
    name_source: str = Field(default="", max_length=2000)
    cas: str = Field(default="", max_length=20)
    input_smiles: str = Field(max_length=2000)
    smiles: str = Field(max_length=2000)
    inchi: str = Field(max_length=4000)
    inchikey: str = Field(max_length=27, unique=True)
    connectivity: str = Field(max_length=14, index=True)
    formula: str = Field(max_length=100)
    family: str = Field(max_length=40, index=True)
    # "exact": the legal entry names this stereoisomer (or the racemate); match by full InChIKey
    stereo: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": text("''")})
    nps: bool = False
    source: str = Field(max_length=2000)
    notes: str = Field(default="", max_length=4000)
    origin: str = Field(default=Origin.registry.value, max_length=20)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Synonym(SQLModel, table=True):
    """Another name or code of a substance; `name_norm` is the case-folded search key."""

    __tablename__ = "synonyms"
    __table_args__ = (UniqueConstraint("substance_id", "name_norm"),)

    id: int | None = Field(default=None, primary_key=True)
    substance_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("substances.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=300)
    name_norm: str = Field(max_length=300, index=True)
