"""Shared column helpers and vocabularies for the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    """Current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


class Precision(StrEnum):
    """How much of a date the source states."""

    day = "day"
    month = "month"
    year = "year"


class ActionKind(StrEnum):
    """Kind of legal act."""

    temporary = "temporary"
    extension = "extension"
    permanent = "permanent"
    removal = "removal"
    # a consolidated list shows the substance controlled by this date, not since when
    listed_by = "listed_by"


class ReporterType(StrEnum):
    """Who made a first report."""

    eu_ews = "eu_ews"
    unodc_ewa = "unodc_ewa"
    national_forensic = "national_forensic"
    seizure = "seizure"
    literature = "literature"
    other = "other"


class Origin(StrEnum):
    """Where a row came from: the reviewed schedules/ files or the API."""

    registry = "registry"
    api = "api"


FAMILIES = (
    "fentanyl",
    "nitazene",
    "u-series",
    "benzamide",
    "cinnamylpiperazine",
    "diphenylethylpiperazine",
    "benzimidazolone",
    "morphinan",
    "benzomorphan",
    "phenylpiperidine",
    "diphenylpropylamine",
    "other",
)


def in_list(column: str, values: type[StrEnum] | tuple[str, ...]) -> str:
    """SQL text of a CHECK constraint that a column holds one of the given values."""
    items = [v.value for v in values] if isinstance(values, type) else list(values)
    return f"{column} IN ({', '.join(repr(v) for v in items)})"
