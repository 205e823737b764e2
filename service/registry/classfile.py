"""The shape of one ``schedules/classes/*.toml`` file, as pydantic models.

`ClassFile.model_validate` checks the structure: required keys, types, unknown keys, and a
discriminated union on ``kind`` for the regions of ``[rules]``. `problems_of` turns a
ValidationError into ``(field path, reason)`` pairs named like ``rules.regions[2].clause``.
What needs the other files or RDKit (a known jurisdiction, a unique key, SMARTS that parse,
references between clauses, groups and scaffold atoms, dates up to today, column lengths)
is checked by `service.registry.formats` once the structure holds.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from service.models.common import ActionKind

__all__ = [
    "ChainRingRegion",
    "ClassAction",
    "ClassFile",
    "Clause",
    "Exclusion",
    "Group",
    "GroupRegion",
    "Region",
    "RingRegion",
    "Rules",
    "SubstituentsRegion",
    "UnencodedFile",
    "problems_of",
]


def _non_empty(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty", "must be a non-empty string")
    return value


def _one_error(reason: str) -> WrapValidator:
    """Report a union that fails as one reason, not one error per member type."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("value", reason) from None

    return WrapValidator(validate)


Text = Annotated[str, AfterValidator(_non_empty)]
Positive = Annotated[int, Field(ge=1)]
MapNumber = Annotated[int, Field(ge=1)]
GroupNames = Annotated[list[Text], Field(min_length=1)]
Day = Annotated[str | date, _one_error("must be a date (YYYY-MM-DD)")]
Smarts = Annotated[str | list[str], _one_error("must be a SMARTS string or a list of them")]
Weight = Annotated[float, Field(gt=0)]  # strict float takes an int too


class _Table(BaseModel):
    # strict: TOML already gives typed values; "yes" is not true and "500" is not 500
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ClassAction(_Table):
    """One ``[[actions]]`` table: a legal act that controls or ends the class."""

    kind: Annotated[ActionKind, Field(strict=False)]
    effective_date: Day
    end_date: Day | None = None
    citation: Text
    source: Text
    notes: str = ""


class Clause(_Table):
    """One legal modification: its key ("A", "1", "ii") and its text."""

    key: Text
    description: Text


class Group(_Table):
    """A named substituent type; ``anchor`` is one SMARTS or a list, each from ``[#0]``."""

    description: str = ""
    anchor: Smarts
    atoms: str | None = None
    acyclic: bool = False
    max_atoms: Positive | None = None
    max_carbons: Positive | None = None
    require: list[str] = []
    forbid: list[str] = []


class _RegionBase(_Table):
    name: Text
    clause: Text


class _Anchored(_RegionBase):
    at: MapNumber
    required: bool = True
    absent_reason: Text | None = None


class GroupRegion(_Anchored):
    """The parent's group at one core atom, or a permitted replacement of it."""

    kind: Literal["group"]
    select: str | None = None
    reference: str
    allowed: GroupNames


class RingRegion(_Anchored):
    """A ring at one core atom that a clause lets be replaced by another ring."""

    kind: Literal["ring"]
    select: str | None = None
    reference: str
    require_monocycle: bool = True
    require_aromatic: bool = False


class SubstituentsRegion(_RegionBase):
    """Substituents permitted on a set of core atoms."""

    kind: Literal["substituents"]
    on: Annotated[list[MapNumber], Field(min_length=1)]
    allowed: GroupNames
    ring_through_atom: bool = False


class ChainRingRegion(_Table):
    """A chain of fixed length to a ring (a phenethyl group), each part with its clause."""

    kind: Literal["chain_ring"]
    name: Text
    at: MapNumber
    required: bool = True
    absent_reason: Text | None = None
    chain_length: Positive
    chain_atom: str | None = None
    chain_allowed: GroupNames
    chain_clause: Text
    reference_ring: str
    ring_require_monocycle: bool = True
    ring_require_aromatic: bool = False
    ring_clause: Text
    reference_ring_allowed: GroupNames
    reference_ring_clause: Text
    substituted_reference_ring_is_replacement: bool = False
    ambiguity_note: Text | None = None


Region = Annotated[
    GroupRegion | RingRegion | SubstituentsRegion | ChainRingRegion, Field(discriminator="kind")
]
REGION_KINDS = ("group", "ring", "substituents", "chain_ring")


class Exclusion(_Table):
    """A substance the definition itself names as excluded."""

    name: Text
    smiles: Text
    reason: Text


class Rules(_Table):
    """The ``[rules]`` table: scaffold, parent, clauses, regions, groups (see chem.classes)."""

    scaffold: Text
    parent: Text
    clauses: Annotated[list[Clause], Field(min_length=1)]
    regions: Annotated[list[Region], Field(min_length=1)]
    groups: dict[str, Group] = {}
    exclusions: list[Exclusion] = []
    notes: str = ""
    max_molecular_weight: Weight | None = None
    near_miss_note: str | None = None


class ClassFile(_Table):
    """One class definition file: metadata, its acts and its matching rules."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    jurisdiction: Text
    name: Text
    schedule: Annotated[str | int, _one_error("must be a string")] = ""
    source: Text
    legal_text: Text
    notes: str = ""
    actions: Annotated[list[ClassAction], Field(min_length=1)]
    rules: Rules
    examples: list[dict[str, Any]] = []


class UnencodedFile(_Table):
    """One ``schedules/unencoded/*.toml`` file: a generic law known to be in force whose
    clauses are not encoded, with the core that makes a structure its concern."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    jurisdiction: Text
    name: Text
    schedule: str = ""
    trigger: Text
    trigger_description: Text
    known_in_force_by: Day
    citation: Text
    source: Text
    quote: Text
    why_unencoded: Text
    notes: str = ""
    members: Annotated[list[Text], Field(min_length=1)]
    non_members: list[Text] = []


_REASONS = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "enum": f"must be one of {', '.join(ActionKind)}",
    "string_pattern_mismatch": "must be lower-case [a-z0-9-]",
    "union_tag_invalid": f"must be one of {', '.join(REGION_KINDS)}",
    "union_tag_not_found": f"must be one of {', '.join(REGION_KINDS)}",
}


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing" and error["loc"][-1:] == ("source",):
        return "missing source"
    if kind == "too_short":
        return "must not be empty"
    if kind == "greater_than_equal":
        return "must be a positive integer"
    if kind == "greater_than":
        return "must be a positive number"
    if kind.startswith(("int_", "float_")) and isinstance(error["input"], bool):
        return "must be a number, not true or false"
    return _REASONS.get(kind, error["msg"])


def _path(error: ErrorDetails) -> str:
    """``('rules', 'regions', 2, 'ring', 'clause')`` -> ``rules.regions[2].clause``."""
    out = ""
    loc = error["loc"]
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        # the tag pydantic puts after a discriminated or plain union member is not a field
        if i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "regions":
            continue
        out += f".{part}" if out else part
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        out += ".kind"
    return out or "-"


def problems_of(exc: ValidationError) -> list[tuple[str, str]]:
    """Every error of a validation as ``(field path, reason)``, in document order."""
    return [(_path(e), _reason(e)) for e in exc.errors()]
