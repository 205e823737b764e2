"""Request and response shapes of the check API (documented in OpenAPI with examples)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.chem.inputs import MAX_TEXT

MAX_BATCH = 10_000

InputType = Literal["smiles", "inchi", "molfile", "name", "cas", "inchikey"]
Status = Literal["controlled", "controlled_by_class", "lookalike", "not_flagged"]

FURANYL = "O=C(c1ccco1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


class CheckOptionsIn(BaseModel):
    """Options shared by single and batch checks."""

    jurisdictions: list[str] | None = Field(
        default=None,
        max_length=50,
        description="jurisdiction codes to check (default: every jurisdiction in the registry)",
        examples=[["US", "CN", "UN"]],
    )
    as_of: date | None = Field(default=None, description="legal status on this day (default: today)")
    top_k: int = Field(default=5, ge=0, le=50, description="nearest controlled neighbours per jurisdiction")
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="lookalike similarity threshold (default: the setting)"
    )


class CheckRequest(CheckOptionsIn):
    """One structure to check."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"structure": FURANYL, "jurisdictions": ["US", "CN"]}]}
    )

    structure: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="SMILES, InChI, a molfile, or a name / synonym / CAS number / InChIKey in the registry",
    )
    input_type: InputType | None = Field(default=None, description="notation of `structure` (default: detected)")


class BatchItem(BaseModel):
    """One structure of a batch, with an optional identifier echoed back."""

    id: str | None = Field(default=None, max_length=200)
    structure: str = Field(min_length=1, max_length=MAX_TEXT)
    input_type: InputType | None = None


class BatchRequest(CheckOptionsIn):
    """Up to 10,000 structures; an item that cannot be read gets an error, not the batch."""

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class Neighbor(BaseModel):
    """A controlled substance similar to the query."""

    id: int
    name: str
    inchikey: str
    similarity: float = Field(description="Tanimoto similarity of the fingerprints, 0 to 1")


class ActOut(BaseModel):
    """A legal act as the check reports it (the keys of `Act.as_dict`)."""

    jurisdiction: str
    kind: str
    schedule: str
    effective_date: str = Field(
        description="as the source states it: a day (YYYY-MM-DD), or a month or year for old listings"
    )
    effective_date_precision: Literal["day", "month", "year"] = "day"
    in_force_from: date = Field(description="first day the act is certainly in force")
    end_date: date | None
    citation: str
    source: str


class MatchedSubstance(ActOut):
    """The registry substance the query is, and the act controlling it."""

    id: int
    name: str
    key: str
    inchikey: str
    match: Literal["inchikey", "connectivity"] = Field(
        description="`inchikey`: identical; `connectivity`: same skeleton (stereo, isotopes or salt differ)"
    )


class ClauseOut(BaseModel):
    """A clause of a class definition the query satisfies, with the atoms it concerns."""

    key: str
    description: str
    atoms: list[int]


class ClassMatchOut(ActOut):
    """The class definition covering the query, and the act keeping it in force."""

    key: str
    name: str
    clauses: list[ClauseOut]
    core_atoms: list[int]
    notes: list[str]
    needs_legal_review: bool = True


class Elsewhere(ActOut):
    """Control of the query in another jurisdiction."""

    name: str


class NearMiss(BaseModel):
    """A class definition whose core the query has, but which it falls outside of."""

    key: str
    name: str
    reason: str | None


class Verdict(BaseModel):
    """The status of the query in one jurisdiction on the as-of day."""

    jurisdiction: str
    status: Status
    substance: MatchedSubstance | None = None
    class_match: ClassMatchOut | None = None
    reasons: list[Literal["similarity", "controlled_elsewhere", "class_near_miss"]] = []
    controlled_elsewhere: list[Elsewhere] = []
    near_misses: list[NearMiss] = []
    neighbors: list[Neighbor] = []


class RegistryRef(BaseModel):
    """A registry substance by id, name, key and InChIKey."""

    id: int
    name: str
    key: str
    inchikey: str


class CheckResult(BaseModel):
    """The standardized query and one verdict per jurisdiction."""

    query: str
    input_type: str
    smiles: str = Field(description="canonical SMILES of the standardized parent")
    inchikey: str
    formula: str
    as_of: date
    threshold: float
    registry_substance: RegistryRef | None = None
    verdicts: list[Verdict]


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
