"""Request and response shapes of the ingest API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.chem.inputs import MAX_TEXT
from service.models import ReporterType

ReporterTypeIn = ReporterType


class AppearanceCreate(BaseModel):
    """A report of a compound: its structure (or the name of a stored substance), when, where, by whom."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "structure": "CCC(C)Oc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1",
                    "name": "sec-butonitazene",
                    "date": "2023-03",
                    "place": "US",
                    "reporter_type": "national_forensic",
                    "reporter": "CFSRE NPS Discovery",
                    "source": "https://www.cfsre.org/nps-discovery/new-drug-monographs",
                }
            ]
        },
    )

    structure: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="SMILES, InChI or a molfile; omit to name a stored substance",
    )
    name: str | None = Field(
        default=None,
        max_length=300,
        description="with a structure: the name of a new substance; without: a stored substance's name, synonym, CAS number, key or InChIKey",
    )
    family: str | None = Field(
        default=None, max_length=40, description="drug family of a new substance (default `other`)"
    )
    date: str = Field(
        max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD: the precision the source states"
    )
    place: str = Field(max_length=8, description="ISO country code, EU, or XX (several or unknown)")
    reporter_type: ReporterTypeIn
    reporter: str = Field(default="", max_length=300)
    source: str = Field(min_length=1, max_length=2000, description="where the report is published")
    notes: str = Field(default="", max_length=4000)


class SubstanceRef(BaseModel):
    """The substance an appearance is of."""

    id: int
    key: str
    name: str
    inchikey: str
    smiles: str
    family: str
    origin: str


class AppearancePublic(BaseModel):
    """A stored appearance with the check verdicts of the day it was ingested (API reports only)."""

    id: int
    substance: SubstanceRef
    date: str = Field(description="the date as the source states it (YYYY, YYYY-MM or YYYY-MM-DD)")
    reported_date: str
    reported_precision: str
    place: str
    reporter_type: str
    reporter: str
    source: str
    notes: str
    origin: str
    verdicts: list[dict[str, Any]] | None = Field(
        description="per jurisdiction: status, reasons, what controlled it and the nearest controlled neighbours, as of the ingest day"
    )
    created_at: str


class AppearanceCreated(BaseModel):
    """The result of a POST: `created` is false when the same report was stored already."""

    created: bool
    new_substance: bool
    appearance: AppearancePublic


class AppearancesPublic(BaseModel):
    """A page of appearances and the total count."""

    count: int
    data: list[AppearancePublic]


class ImportSummary(BaseModel):
    """What an import wrote."""

    rows: int
    inserted: int
    unchanged: int
    new_substances: int
