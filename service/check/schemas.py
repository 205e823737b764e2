"""Request and response shapes of the check API (documented in OpenAPI with examples)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.check.verdict import (
    ActOut,
    CheckResult,
    ClassMatchOut,
    ClauseOut,
    Elsewhere,
    InterpretedName,
    MatchedSubstance,
    NearMiss,
    Neighbor,
    RegistryRef,
    Status,
    Verdict,
)
from service.chem.inputs import MAX_TEXT

MAX_BATCH = 10_000

InputType = Literal["smiles", "inchi", "molfile", "name", "cas", "inchikey"]

__all__ = [
    "ActOut",
    "BatchError",
    "BatchItem",
    "BatchRequest",
    "BatchResponse",
    "BatchResult",
    "CheckOptionsIn",
    "CheckRequest",
    "CheckResult",
    "ClassMatchOut",
    "ClauseOut",
    "Elsewhere",
    "InterpretedName",
    "MatchedSubstance",
    "NearMiss",
    "Neighbor",
    "RegistryRef",
    "Status",
    "Verdict",
]

FURANYL = "O=C(c1ccco1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
CROTONYL_NAME = "N-phenyl-N-[1-(2-phenylethyl)piperidin-4-yl]but-2-enamide"


class CheckOptionsIn(BaseModel):
    """Options shared by single and batch checks."""

    jurisdictions: list[str] | None = Field(
        default=None,
        max_length=50,
        description="jurisdiction codes to check (default: every jurisdiction in the registry)",
        examples=[["US", "CN", "UN"]],
    )
    as_of: date | None = Field(
        default=None, description="legal status on this day (default: today)"
    )
    top_k: int = Field(
        default=5, ge=0, le=50, description="nearest controlled neighbours per jurisdiction"
    )
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="lookalike similarity threshold (default: the setting)",
    )


class CheckRequest(CheckOptionsIn):
    """One structure to check."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"structure": FURANYL, "jurisdictions": ["US", "CN"]},
                {"structure": CROTONYL_NAME, "input_type": "name", "jurisdictions": ["US"]},
            ]
        }
    )

    structure: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description=(
            "SMILES, InChI, a molfile, a name / synonym / CAS number / InChIKey in the registry,"
            " or a systematic (IUPAC) name, read by OPSIN (the answer's `interpreted_as` shows"
            " the structure it was read as)"
        ),
    )
    input_type: InputType | None = Field(
        default=None,
        description=(
            "notation of `structure` (default: detected; a systematic name is tried when the"
            " text is no registry name and no structure). `name`: a registry name, else a"
            " systematic name"
        ),
    )


class BatchItem(BaseModel):
    """One structure of a batch, with an optional identifier echoed back."""

    id: str | None = Field(default=None, max_length=200)
    structure: str = Field(min_length=1, max_length=MAX_TEXT)
    input_type: InputType | None = None


class BatchRequest(CheckOptionsIn):
    """Up to 10,000 structures; an item that cannot be read gets an error, not the batch."""

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class BatchError(BaseModel):
    """Why one batch item could not be checked."""

    field: str
    reason: str


class BatchResult(BaseModel):
    """One batch item's result: a check, or an error."""

    index: int
    id: str | None = None
    result: CheckResult | None = None
    error: BatchError | None = None


class BatchResponse(BaseModel):
    """Results in input order, with counts."""

    count: int
    errors: int
    results: list[BatchResult]


# ------------------------------------------------------------------------------- substances


class SubstanceSummary(BaseModel):
    """The short form of a substance, as listed."""

    id: int
    key: str
    name: str
    family: str
    inchikey: str
    smiles: str
    formula: str
    nps: bool
    origin: str = Field(description="registry (schedules/) or api (a reported compound)")
    jurisdictions: list[str] = Field(description="jurisdictions with an act on it")


class SubstanceList(BaseModel):
    """One page of a substance search."""

    count: int = Field(description="matches in all; `data` holds the requested page")
    data: list[SubstanceSummary]


class ClassCoverage(BaseModel):
    """A class-wide definition the substance falls under, or narrowly misses."""

    key: str
    name: str
    jurisdiction: str
    member: bool
    near_miss_reason: str | None
    clauses: list[str]
    first_effective_date: str | None
    in_force: bool
    acts: list[ActOut]


class AppearanceOut(BaseModel):
    """A first report of the substance."""

    date: str
    precision: str
    place: str
    reporter_type: str
    reporter: str
    source: str


class SubstanceDetail(SubstanceSummary):
    """Everything known about one substance."""

    synonyms: list[str]
    cas: str
    status: dict[str, ActOut | None] = Field(
        description="per jurisdiction, the individual act in force today (null: none)"
    )
    actions: dict[str, list[ActOut]] = Field(description="every act, per jurisdiction")
    classes: list[ClassCoverage]
    appearances: list[AppearanceOut]


SUBSTANCE_EXAMPLE = {
    "id": 1,
    "key": "fentanyl",
    "name": "Fentanyl",
    "family": "fentanyl",
    "inchikey": "PJMPHNIQZUBGLI-UHFFFAOYSA-N",
    "smiles": "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
    "formula": "C22H28N2O",
    "nps": False,
    "origin": "registry",
    "jurisdictions": ["CN", "UK", "UN", "US"],
}
