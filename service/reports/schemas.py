"""Response shapes of the reports API (the row keys are a public contract: never renamed)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class NeighborOut(BaseModel):
    """A substance controlled in the jurisdiction, with its similarity to the row's compound."""

    name: str
    inchikey: str
    similarity: float = Field(description="Tanimoto similarity of Morgan fingerprints, 0 to 1")


class ControlElsewhere(BaseModel):
    """Control of the compound in another jurisdiction on the report date."""

    jurisdiction: str
    by: Literal["listing", "class"]
    name: str = Field(description="the listed substance, or the class definition")
    citation: str
    effective_date: str


class FirstAppearance(BaseModel):
    """The earliest report of the compound anywhere."""

    date: str = Field(description="as the source states it: YYYY, YYYY-MM or YYYY-MM-DD")
    place: str
    reporter_type: str
    source: str


class ReportRow(BaseModel):
    """One compound not controlled in the jurisdiction that resembles what is."""

    rank: int
    name: str
    inchikey: str
    smiles: str
    reason: str = Field(
        description=(
            "the reasons, comma-separated: controlled_elsewhere, similarity, class_near_miss, "
            "similar_elsewhere, class_elsewhere, contains_controlled, shares_scaffold"
        )
    )
    reasons: list[str]
    neighbors: list[NeighborOut]
    max_similarity: float
    controlled_elsewhere: list[ControlElsewhere]
    near_misses: list[dict[str, Any]]
    caveats: list[dict[str, Any]] = Field(
        default=[],
        description="generic laws of the jurisdiction the registry does not encode whose core "
        "the compound has: it may already be controlled here (see the check's `caveats`)",
    )
    first_appearance: FirstAppearance
    days_since_first_appearance: int
    first_flagged_at: str | None = Field(
        description="when an ingested report of it was first flagged here"
    )
    new_since_previous: bool
    substance_id: int
    key: str
    family: str
    origin: str


class ResolvedRow(BaseModel):
    """A compound listed in the previous report and not in this one, with its status now."""

    name: str
    inchikey: str
    smiles: str
    previous_rank: int | None
    status_now: str


class JurisdictionSection(BaseModel):
    """The ranked rows of one jurisdiction and what was resolved there."""

    name: str
    rows: list[ReportRow]
    resolved: list[ResolvedRow]


class ReportSummary(BaseModel):
    """A stored report run without its rows."""

    id: int
    kind: str
    status: Literal["succeeded", "failed"]
    as_of: str
    trigger: str
    started_at: str
    finished_at: str
    parameters: dict[str, Any]
    previous_id: int | None
    error: str | None
    summary: dict[str, Any] = Field(description="per jurisdiction: rows, new, resolved")


class ReportPublic(ReportSummary):
    """A stored report with its ranked rows per jurisdiction."""

    jurisdictions: dict[str, JurisdictionSection]


class ReportsPublic(BaseModel):
    """Reports newest first, and the total count."""

    count: int
    data: list[ReportSummary]
