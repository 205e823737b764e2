"""The check's answer as a typed value: `CheckResult` with one `Verdict` per jurisdiction.

Defined once, here. The check builds these values; the API serves them as they are (they
are its response schema), and pages, reports, the backtest, screening, ingest and the CLI
read their attributes. The JSON form is the public contract of `POST /check`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCOPE = (
    "The registry holds opioids: the opioid entries of each jurisdiction's lists and its class "
    "laws on opioids. Not flagged means the query is none of these, no member or near miss of "
    "such a class law, and not like any of them; it says nothing about drugs outside that scope "
    "(stimulants, hallucinogens, sedatives, dissociatives such as ketamine, cannabinoids), which "
    "may be controlled there all the same."
)
"""What a `not_flagged` verdict does and does not say (the API schema, CLI and pages show it)."""


class Status(StrEnum):
    """The status of a query in one jurisdiction on a day (exactly these strings)."""

    CONTROLLED = "controlled"
    CONTROLLED_BY_CLASS = "controlled_by_class"
    LOOKALIKE = "lookalike"
    NOT_FLAGGED = "not_flagged"

    @property
    def is_controlled(self) -> bool:
        """True for `controlled` and `controlled_by_class`."""
        return self in (Status.CONTROLLED, Status.CONTROLLED_BY_CLASS)


Reason = Literal[
    "similarity",
    "controlled_elsewhere",
    "class_near_miss",
    "similar_elsewhere",
    "class_elsewhere",
    "contains_controlled",
    "shares_scaffold",
]
"""Why a lookalike is flagged. The first three are the original signals; `similar_elsewhere`
(resembles a substance controlled in another jurisdiction), `class_elsewhere` (a member or
near miss of a class law in force in another jurisdiction), `contains_controlled` (the query
is a substance controlled somewhere with atoms added: it contains that substance whole) and
`shares_scaffold` (the query carries whole a scaffold of two or more ring systems of a
substance controlled somewhere, with other side chains) were added after them."""


def _empty(v: list[Any]) -> bool:
    return not v


def _none(v: object) -> bool:
    return v is None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Neighbor(_Frozen):
    """A controlled substance similar to the query."""

    id: int
    name: str
    inchikey: str
    similarity: float = Field(description="Tanimoto similarity of the fingerprints, 0 to 1")


class ActOut(_Frozen):
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


class ClauseOut(_Frozen):
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


class ListedLater(ActOut):
    """A consolidated list shows the query controlled here by a later day, without saying since
    when (an act of kind `listed_by`): on the as-of day it may already have been controlled."""

    name: str
    key: str


class NearMiss(_Frozen):
    """A class definition whose core the query has, but which it falls outside of."""

    key: str
    name: str
    reason: str | None


class Place(_Frozen):
    """Where and since when a listed substance or class law is in force."""

    jurisdiction: str
    in_force_from: date = Field(description="first day the act is certainly in force")
    citation: str


class Evidence(_Frozen):
    """Why one signal fired: the listed substance or class law it points to, where, since when."""

    signal: Reason
    name: str = Field(description="the listed substance or the class definition")
    key: str
    similarity: float | None = Field(
        default=None, description="Tanimoto similarity to the listed substance (similarity signals)"
    )
    detail: str | None = Field(
        default=None,
        description="for a class: `member`, or the clause the query fails; for "
        "`contains_controlled`: how much of the query the contained substance is; for "
        "`shares_scaffold`: how much of the query the shared scaffold is",
    )
    scaffold: str | None = Field(
        default=None,
        exclude_if=_none,
        description="`shares_scaffold`: the scaffold the query shares with the listed substance, "
        "as SMILES (absent otherwise)",
    )
    where: list[Place] = Field(description="jurisdictions controlling it on the day, with dates")


class Caveat(_Frozen):
    """A generic law of the jurisdiction that the registry knows of but does not encode, whose
    core the query has: the status may understate control there (needs legal review)."""

    key: str
    name: str
    jurisdiction: str
    schedule: str = Field(
        description="the schedule or class the law places its subjects in (empty when not read)"
    )
    core: str = Field(description="the core the query shares with the law's subjects, in words")
    known_in_force_by: date = Field(
        description="an official source shows the law in force by this day (since when is not "
        "recorded)"
    )
    citation: str
    source: str
    why_unencoded: str = Field(description="why the registry does not decide by this law")


class ExclusionOut(_Frozen):
    """The law of the jurisdiction names this very substance (this stereoisomer) as outside
    one of its schedules: the query is not controlled there by that entry, and not by oversight."""

    name: str = Field(description="the substance as the legal text names it")
    excluded_from: str = Field(description="the schedule or entry the text excludes it from")
    written_in: str = Field(
        description="the jurisdiction whose text says so (the UN's for the EU, which applies "
        "the UN schedules)"
    )
    in_force_by: date = Field(
        description="a day on which the cited text shows the exclusion in force (since when is "
        "not recorded)"
    )
    citation: str
    source: str


class Verdict(_Frozen):
    """The status of the query in one jurisdiction on the as-of day."""

    jurisdiction: str
    status: Status = Field(
        description="`controlled` (listed individually), `controlled_by_class` (covered by a class "
        "law), `lookalike` (see `reasons`) or `not_flagged`. " + SCOPE
    )
    substance: MatchedSubstance | None = None
    class_match: ClassMatchOut | None = None
    reasons: list[Reason] = []
    controlled_elsewhere: list[Elsewhere] = []
    near_misses: list[NearMiss] = []
    neighbors: list[Neighbor] = []
    why: list[Evidence] = Field(
        default_factory=list,
        exclude_if=_empty,
        description="one entry per reason of a lookalike: what it points to, where and since when "
        "(absent when there is no reason)",
    )
    alternatives: list[MatchedSubstance] = Field(
        default_factory=list,
        exclude_if=_empty,
        description="other registry entries of the query's skeleton, controlled here on the day "
        "under another schedule, that the structure as given does not tell apart from "
        "`substance` (it leaves stereocentres unspecified, and the law lists stereoisomers "
        "apart): the status holds, the schedule depends on the stereoisomer meant (absent "
        "otherwise)",
    )
    listed_later: ListedLater | None = Field(
        default=None,
        exclude_if=_none,
        description="not controlled on the day by any act known to the registry, but a "
        "consolidated list shows it controlled here by a later day without saying since when: "
        "the status on the day is not known (absent otherwise)",
    )
    caveats: list[Caveat] = Field(
        default_factory=list,
        exclude_if=_empty,
        description="generic laws in force here that the registry does not encode and whose "
        "core the query has, when the status is neither `controlled` nor "
        "`controlled_by_class`: the query may be controlled under them (absent otherwise)",
    )
    exclusions: list[ExclusionOut] = Field(
        default_factory=list,
        exclude_if=_empty,
        description="the law of this jurisdiction names the query (this exact stereoisomer) as "
        "excluded from a schedule, in force on the day, when the status is neither `controlled` "
        "nor `controlled_by_class` (dextromethorphan beside levomethorphan): the lookalike "
        "reasons still say what it resembles (absent otherwise)",
    )


class RegistryRef(_Frozen):
    """A registry substance by id, name, key and InChIKey."""

    id: int
    name: str
    key: str
    inchikey: str


class InterpretedName(_Frozen):
    """How a name that is no registry name was read: the structure it gave, and its picture."""

    name: str = Field(description="the name as given")
    by: Literal["opsin", "chembl", "brand", "law"] = Field(
        default="opsin",
        description="what read the name: OPSIN (a systematic name), ChEMBL's approved drugs, "
        "the FDA substance registry's brand names (`brand`: see `generic`), or a substance a "
        "law names as excluded from its schedules (`law`: see the verdicts' `exclusions`)",
    )
    generic: str | None = Field(
        default=None,
        exclude_if=_none,
        description="a brand name: the substance it names in the FDA Global Substance "
        "Registration System, read as the drug (counter-ion and hydrate words taken off) "
        "(absent otherwise)",
    )
    smiles: str = Field(description="the SMILES the name was read as, before standardizing")
    depiction: str = Field(description="URL of the structure drawn as SVG")


class CheckResult(_Frozen):
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
    interpreted_as: InterpretedName | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="present when the query was a systematic name read by OPSIN: what it was read as",
    )
