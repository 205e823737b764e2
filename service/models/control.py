"""Legal acts: control actions on substances, class definitions and their acts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from service.models.common import ActionKind, Precision, in_list

_END_AFTER_START = "end_date IS NULL OR end_date >= effective_date"


class ControlAction(SQLModel, table=True):
    """One legal act on one substance in one jurisdiction.

    `effective_date` is the first day of the period `effective_precision` names: a
    permanent act whose source states only a year or a month (an old listing) is kept at
    that precision, and counted in force from the last day of the period.
    """

    __tablename__ = "control_actions"
    __table_args__ = (
        UniqueConstraint("substance_id", "jurisdiction", "kind", "effective_date"),
        CheckConstraint(in_list("kind", ActionKind), name="kind"),
        CheckConstraint(in_list("effective_precision", Precision), name="effective_precision"),
        CheckConstraint(_END_AFTER_START, name="end_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    substance_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("substances.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    jurisdiction: str = Field(foreign_key="jurisdictions.code", max_length=8, index=True)
    kind: str = Field(max_length=20)
    schedule: str = Field(default="", max_length=100)
    effective_date: date
    effective_precision: str = Field(
        default="day", max_length=5, sa_column_kwargs={"server_default": text("'day'")}
    )
    end_date: date | None = None
    citation: str = Field(max_length=500)
    source: str = Field(max_length=2000)
    code: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": text("''")})
    secondary_source: str = Field(
        default="", max_length=2000, sa_column_kwargs={"server_default": text("''")}
    )
    notes: str = Field(default="", max_length=4000)


class ClassDefinition(SQLModel, table=True):
    """A class-wide (generic) control with its legal text and structural rules."""

    __tablename__ = "class_definitions"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    jurisdiction: str = Field(foreign_key="jurisdictions.code", max_length=8, index=True)
    name: str = Field(max_length=300)
    schedule: str = Field(default="", max_length=100)
    legal_text: str = Field(sa_column=Column(Text, nullable=False))
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    examples: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    source: str = Field(max_length=2000)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))


class ClassAction(SQLModel, table=True):
    """One legal act putting a class definition in force, extending or ending it."""

    __tablename__ = "class_actions"
    __table_args__ = (
        UniqueConstraint("class_id", "kind", "effective_date"),
        CheckConstraint(in_list("kind", ActionKind), name="kind"),
        CheckConstraint(_END_AFTER_START, name="end_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    class_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("class_definitions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    kind: str = Field(max_length=20)
    effective_date: date
    end_date: date | None = None
    citation: str = Field(max_length=500)
    source: str = Field(max_length=2000)
    notes: str = Field(default="", max_length=4000)


class UnencodedLaw(SQLModel, table=True):
    """A generic law known to be in force whose clauses the registry does not hold yet.

    It cannot decide a verdict; a check whose structure has the law's core (`trigger`, a SMARTS)
    and is not controlled in the jurisdiction carries it as a caveat: the status may understate
    control there.
    """

    __tablename__ = "unencoded_laws"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    jurisdiction: str = Field(foreign_key="jurisdictions.code", max_length=8, index=True)
    name: str = Field(max_length=300)
    schedule: str = Field(default="", max_length=100)
    trigger: str = Field(max_length=1000)
    trigger_description: str = Field(max_length=500)
    known_in_force_by: date
    citation: str = Field(max_length=500)
    source: str = Field(max_length=2000)
    quote: str = Field(default="", max_length=2000)
    why_unencoded: str = Field(max_length=2000)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))


class Exclusion(SQLModel, table=True):
    """A substance a jurisdiction's law names as outside one of its schedules.

    The Single Convention's Schedule I excludes dextromethorphan and dextrorphan by name from
    its methorphan and morphinan entries; 21 CFR 1308.12(b)(1) excludes naloxone, naltrexone,
    nalbuphine and others from the opiates of Schedule II. An exclusion never sets a status:
    a check whose structure is the excluded substance (same full InChIKey), and that the
    registry does not find controlled there, carries it to say the law decided so.
    `in_force_by` is a day on which the cited text shows the exclusion in force.
    """

    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("jurisdiction", "inchikey", "excluded_from"),)

    id: int | None = Field(default=None, primary_key=True)
    jurisdiction: str = Field(foreign_key="jurisdictions.code", max_length=8, index=True)
    name: str = Field(max_length=200)
    excluded_from: str = Field(max_length=300)
    input_smiles: str = Field(max_length=2000)
    inchikey: str = Field(max_length=27, index=True)
    structure_source: str = Field(max_length=2000)
    in_force_by: date
    citation: str = Field(max_length=500)
    source: str = Field(max_length=2000)
    secondary_source: str = Field(default="", max_length=2000)
    quote: str = Field(default="", max_length=2000)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
