"""Validate reported appearances against the registry, then store them in one transaction.

Every row is checked before anything is written; a problem is reported as
`line: field: reason` and then nothing is written at all. A row names a substance already
in the registry, or gives a structure: a structure whose standardized parent has the
InChIKey of a stored substance is that substance; any other becomes a new substance
(origin `api`, key = its InChIKey in lower case, family `other` unless given, NPS).
Appearances are keyed like the registry's (substance, date, precision, place, reporter
type): a row whose key is stored already is skipped, so importing a file twice adds
nothing. Each new appearance keeps the check verdicts of the day it came in, so the
service can say when a compound was first flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from service.check import service as check_service
from service.check.index import WatchIndex
from service.chem.errors import StructureError
from service.chem.inputs import Parsed, read_structure
from service.chem.standardize import identity
from service.dates import PartialDate
from service.ingest.files import Problem, RawRow
from service.models import Appearance, Origin, ReporterType, Substance
from service.models.common import FAMILIES, utcnow
from service.registry.formats import EARLIEST, PLACE

MAX_LENGTHS = {"name": 300, "reporter": 300, "source": 2000, "notes": 4000}
VERDICT_NEIGHBORS = 3

Progress = Callable[[int], None]
_FIELD_ORDER = {
    f: i
    for i, f in enumerate(
        (
            "structure",
            "molfile",
            "name",
            "family",
            "date",
            "place",
            "reporter_type",
            "reporter",
            "source",
            "notes",
        )
    )
}


@dataclass(slots=True)
class Prepared:
    """A valid row: the compound (a stored substance, or a new structure) and the report."""

    line: int
    parsed: Parsed
    name: str  # of a new substance (the InChIKey when the row names none)
    family: str
    input_text: str
    when: PartialDate
    place: str
    reporter_type: str
    reporter: str
    source: str
    notes: str
    verdicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def natural_key(self) -> tuple[str, date, str, str, str]:
        """The compound's InChIKey and the appearance's natural key fields."""
        return (
            self.parsed.identity.inchikey,
            self.when.earliest,
            self.when.precision.value,
            self.place,
            self.reporter_type,
        )


@dataclass(slots=True)
class ImportResult:
    """What an import wrote: appearances inserted or already there, substances created."""

    rows: int = 0
    inserted: int = 0
    unchanged: int = 0
    new_substances: int = 0
    appearance_ids: list[int] = field(default_factory=list)
    created: list[bool] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Counts as plain data."""
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "unchanged": self.unchanged,
            "new_substances": self.new_substances,
        }


def validate(
    index: WatchIndex,
    rows: Sequence[RawRow],
    *,
    today: date,
    threshold: float,
    progress: Progress | None = None,
) -> tuple[list[Prepared], list[Problem]]:
    """Check every row (structure, name, date, place, reporter type, source) and collect every problem."""
    prepared: list[Prepared] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, date, str, str, str], int] = {}
    new_names: dict[str, tuple[str, int]] = {}  # a new name -> (InChIKey, line) within the file
    options = check_service.CheckOptions(as_of=today, threshold=threshold, top_k=VERDICT_NEIGHBORS)
    for row in rows:
        found = _validate_row(index, row, today=today)
        if isinstance(found, list):
            problems.extend(found)
        else:
            first = seen.setdefault(found.natural_key, row.line)
            ikey = found.parsed.identity.inchikey
            other = new_names.setdefault(found.name.casefold(), (ikey, row.line))
            if first != row.line:
                problems.append(
                    Problem(row.line, "date", f"duplicate of the report on line {first}")
                )
            elif other[0] != ikey:
                problems.append(
                    Problem(
                        row.line,
                        "name",
                        f"{found.name!r} names another structure on line {other[1]}",
                    )
                )
            else:
                found.verdicts = ingest_verdicts(index, found.parsed, options)
                prepared.append(found)
        if progress is not None:
            progress(1)
    return prepared, problems


def _validate_row(index: WatchIndex, row: RawRow, *, today: date) -> Prepared | list[Problem]:
    v = row.values
    line = row.line
    problems: list[Problem] = []

    def bad(column: str, reason: str) -> None:
        problems.append(Problem(line, column, reason))

    for column in ("date", "place", "reporter_type", "source"):
        if not v.get(column):
            bad(column, "missing source" if column == "source" else "required value is empty")
    for column, limit in MAX_LENGTHS.items():
        if len(v.get(column, "")) > limit:
            bad(column, f"{len(v[column])} characters; the limit is {limit}")
    when: PartialDate | None = None
    if v.get("date"):
        try:
            when = PartialDate.parse(v["date"])
        except ValueError as exc:
            bad("date", f"bad date: {exc}")
        else:
            if not EARLIEST <= when.earliest <= today:
                bad("date", f"{v['date']!r} is not between 1900 and today")
    if v.get("place") and not PLACE.match(v["place"]):
        bad("place", f"{v['place']!r} is not a country code, EU or XX")
    if v.get("reporter_type") and v["reporter_type"] not in ReporterType.__members__:
        known = ", ".join(ReporterType.__members__)
        bad("reporter_type", f"unknown reporter type {v['reporter_type']!r} (one of {known})")
    family = v.get("family") or "other"
    if family not in FAMILIES:
        bad("family", f"unknown family {family!r} (one of {', '.join(FAMILIES)})")

    structure, name = v.get("structure", ""), v.get("name", "")
    parsed: Parsed | None = None
    column = "structure" if row.input_type is None else "molfile"
    if structure:
        try:
            parsed = read_structure(structure, row.input_type, with_inchi=True)
        except StructureError as exc:
            bad(column, str(exc))
        named = index.lookup_name(name) if name and parsed is not None else None
        if parsed is not None and named is not None and named.inchikey != parsed.identity.inchikey:
            bad("name", f"{name!r} is the stored substance {named.key!r}, whose structure differs")
    elif name:
        found = index.lookup_name(name)
        if found is None:
            bad("name", f"no substance named {name[:100]!r} in the registry (give its structure)")
        else:
            parsed = Parsed(found.mol, identity(found.mol), "name")
    else:
        bad("structure", "give a structure or the name of a registry substance")

    if problems or parsed is None or when is None:
        return sorted(problems, key=lambda p: _FIELD_ORDER.get(p.field, len(_FIELD_ORDER)))
    return Prepared(
        line=line,
        parsed=parsed,
        name=name or parsed.identity.inchikey,
        family=family,
        input_text=structure if row.input_type is None else parsed.identity.smiles,
        when=when,
        place=v["place"],
        reporter_type=v["reporter_type"],
        reporter=v.get("reporter", ""),
        source=v["source"],
        notes=v.get("notes", ""),
    )


def ingest_verdicts(
    index: WatchIndex, parsed: Parsed, options: check_service.CheckOptions
) -> list[dict[str, Any]]:
    """The check's verdicts in the compact form stored with an appearance."""
    result = check_service.check_parsed(index, parsed, options, query=parsed.identity.smiles)
    out = []
    for v in result.verdicts:
        why: str | None = None
        if v.substance:
            why = f"{v.substance.name}: {v.substance.citation}"
        elif v.class_match:
            why = f"{v.class_match.name}: {v.class_match.citation}"
        out.append(
            {
                "jurisdiction": v.jurisdiction,
                "status": v.status.value,
                "reasons": list(v.reasons),
                "controlled_by": why,
                "neighbors": [
                    {"name": n.name, "inchikey": n.inchikey, "similarity": n.similarity}
                    for n in v.neighbors
                ],
                "as_of": options.as_of.isoformat(),
                "threshold": options.threshold,
            }
        )
    return out


def apply(
    session: Session, rows: Sequence[Prepared], *, progress: Progress | None = None
) -> ImportResult:
    """Write valid rows (new substances, new appearances); flush only, the caller commits."""
    result = ImportResult(rows=len(rows))
    by_inchikey: dict[str, Substance] = {}
    now = utcnow()
    for row in rows:
        ident = row.parsed.identity
        sub = (
            by_inchikey.get(ident.inchikey)
            or session.execute(
                select(Substance).where(col(Substance.inchikey) == ident.inchikey)
            ).scalar_one_or_none()
        )
        if sub is None:
            sub = Substance(
                key=ident.inchikey.lower(),
                name=row.name,
                input_smiles=row.input_text[:2000],
                smiles=ident.smiles,
                inchi=ident.inchi,
                inchikey=ident.inchikey,
                connectivity=ident.connectivity,
                formula=ident.formula,
                family=row.family,
                nps=True,
                source=row.source,
                name_source=row.source if row.name != ident.inchikey else "",
                notes=f"reported compound, first ingested from line {row.line}",
                origin=Origin.api.value,
                created_at=now,
                updated_at=now,
            )
            session.add(sub)
            session.flush()
            result.new_substances += 1
        by_inchikey[ident.inchikey] = sub
        existing = session.execute(
            select(Appearance).where(
                col(Appearance.substance_id) == sub.id,
                col(Appearance.reported_date) == row.when.earliest,
                col(Appearance.reported_precision) == row.when.precision.value,
                col(Appearance.place) == row.place,
                col(Appearance.reporter_type) == row.reporter_type,
            )
        ).scalar_one_or_none()
        if existing is not None:
            result.unchanged += 1
            result.appearance_ids.append(existing.id or 0)
            result.created.append(False)
        else:
            app = Appearance(
                substance_id=sub.id or 0,
                reported_date=row.when.earliest,
                reported_precision=row.when.precision.value,
                place=row.place,
                reporter_type=row.reporter_type,
                reporter=row.reporter,
                source=row.source,
                notes=row.notes,
                origin=Origin.api.value,
                verdicts=row.verdicts,
                created_at=now,
            )
            session.add(app)
            session.flush()
            result.inserted += 1
            result.appearance_ids.append(app.id or 0)
            result.created.append(True)
        if progress is not None:
            progress(1)
    return result


def first_flagged(appearances: Sequence[Appearance]) -> dict[str, str]:
    """Per jurisdiction, when an ingested report of the substance was first flagged (not `not_flagged`)."""
    out: dict[str, str] = {}
    for a in sorted(appearances, key=lambda a: a.created_at):
        for v in a.verdicts or ():
            if v.get("status") != "not_flagged":
                out.setdefault(v["jurisdiction"], a.created_at.isoformat())
    return out


def appearance_public(a: Appearance, sub: Substance) -> dict[str, Any]:
    """An appearance with its substance, as plain data."""
    return {
        "id": a.id,
        "substance": {
            "id": sub.id,
            "key": sub.key,
            "name": sub.name,
            "inchikey": sub.inchikey,
            "smiles": sub.smiles,
            "family": sub.family,
            "origin": sub.origin,
        },
        "date": str(PartialDate.of(a.reported_date, a.reported_precision)),
        "reported_date": a.reported_date.isoformat(),
        "reported_precision": a.reported_precision,
        "place": a.place,
        "reporter_type": a.reporter_type,
        "reporter": a.reporter,
        "source": a.source,
        "notes": a.notes,
        "origin": a.origin,
        "verdicts": a.verdicts,
        "created_at": a.created_at.isoformat(),
    }


def list_appearances(
    session: Session,
    *,
    substance_id: int | None = None,
    origin: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Appearances, newest ingest first, with their substances; filtered by substance and origin."""
    stmt = select(Appearance, Substance).join(Substance, Substance.id == Appearance.substance_id)  # type: ignore[arg-type]
    if substance_id is not None:
        stmt = stmt.where(col(Appearance.substance_id) == substance_id)
    if origin is not None:
        stmt = stmt.where(col(Appearance.origin) == origin)
    rows = session.execute(stmt.order_by(Appearance.created_at.desc(), Appearance.id.desc())).all()  # type: ignore[attr-defined,union-attr]
    return len(rows), [appearance_public(a, s) for a, s in rows[offset : offset + limit]]
