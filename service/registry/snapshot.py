"""An in-memory, read-only picture of the registry and the legal-status rules over time.

The check engine, the lag analytics and the reports all ask one question — "was this
controlled in J on day d, and by which act?" — so the answer lives here, once.

Legal status from a list of acts in one jurisdiction:

* a `temporary` act or an `extension` is in force on days `effective_date <= d < end_date`
  (the order lapses on its end date) or open-ended when no end date is known;
* a `permanent` act is in force from its effective date on;
* a `removal` ends every act that took effect before it, from its effective date.

An act whose source dates it only to a month or a year (old listings) is counted in force
from the last day of that period: before then the registry cannot say it was in force.

On a given day the act in force is the most recent one that is in force.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from rdkit import Chem
from sqlalchemy import select
from sqlmodel import Session, col

from service.chem.classes import CompiledClass, compile_class
from service.chem.standardize import parse_smiles
from service.dates import PartialDate
from service.models import (
    Appearance,
    ClassAction,
    ClassDefinition,
    ControlAction,
    Exclusion,
    Jurisdiction,
    Substance,
    Synonym,
    UnencodedLaw,
)
from service.registry.loader import latest_load


@dataclass(frozen=True, slots=True)
class Act:
    """One legal act (on a substance or a class) as plain data.

    `effective_date` is the first day the act is certainly in force: the stated day, or the
    last day of the month or year its source gives (`stated`).
    """

    jurisdiction: str
    kind: str
    schedule: str
    effective_date: date
    end_date: date | None
    citation: str
    source: str
    inherited_from: str | None = None  # the jurisdiction whose act applies here by law
    stated: PartialDate | None = None  # the effective date as the source states it, when not a day

    @property
    def effective_written(self) -> str:
        """The effective date at its stated precision (`1964`, `1988-03`, `2018-02-06`)."""
        return str(self.stated) if self.stated else self.effective_date.isoformat()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`effective_date` at its stated precision, `in_force_from` a day)."""
        return {
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "schedule": self.schedule,
            "effective_date": self.effective_written,
            "effective_date_precision": self.stated.precision.value if self.stated else "day",
            "in_force_from": self.effective_date.isoformat(),
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "citation": self.citation,
            "source": self.source,
        }


def act_in_force(acts: list[Act] | tuple[Act, ...], on: date) -> Act | None:
    """The act in force on a day among acts of one jurisdiction, or None when uncontrolled."""
    removed = max(
        (a.effective_date for a in acts if a.kind == "removal" and a.effective_date <= on),
        default=None,
    )
    current: Act | None = None
    for a in acts:
        if a.kind == "removal" or a.effective_date > on:
            continue
        if removed is not None and a.effective_date <= removed:
            continue  # ended by a later removal
        if a.end_date is not None and on >= a.end_date:
            continue  # lapsed
        if current is None or a.effective_date >= current.effective_date:
            current = a
    return current


def first_control(acts: list[Act] | tuple[Act, ...]) -> Act | None:
    """The earliest act that put the subject under control (removals never count)."""
    starts = [a for a in acts if a.kind != "removal"]
    return min(starts, key=lambda a: a.effective_date) if starts else None


@dataclass(frozen=True, slots=True)
class AppearanceFact:
    """A first report as plain data (date interval by precision)."""

    earliest: date
    precision: str
    place: str
    reporter_type: str
    reporter: str
    source: str


@dataclass(slots=True)
class SubstanceFact:
    """A registry substance with its acts per jurisdiction."""

    id: int
    key: str
    name: str
    smiles: str
    inchikey: str
    connectivity: str
    formula: str
    family: str
    nps: bool
    origin: str
    synonyms: tuple[str, ...] = ()
    cas: str = ""
    stereo: str = ""  # "exact": the law names this stereoisomer; matched by full InChIKey only
    acts: dict[str, tuple[Act, ...]] = field(default_factory=dict)
    appearances: tuple[AppearanceFact, ...] = ()
    _mol: Chem.Mol | None = None

    @property
    def mol(self) -> Chem.Mol:
        """RDKit molecule of the standardized parent (parsed once, on first use)."""
        if self._mol is None:
            self._mol = parse_smiles(self.smiles)
        return self._mol

    def act_in_force(self, jurisdiction: str, on: date) -> Act | None:
        """The individual act controlling it in a jurisdiction on a day."""
        return act_in_force(self.acts.get(jurisdiction, ()), on)

    def controlled_anywhere(self, on: date) -> list[Act]:
        """Acts in force on a day, one per jurisdiction that controls it."""
        found = (act_in_force(acts, on) for acts in self.acts.values())
        return [a for a in found if a is not None]


@dataclass(slots=True)
class ClassFact:
    """A class definition compiled for matching, with its acts."""

    id: int
    key: str
    jurisdiction: str
    name: str
    schedule: str
    source: str
    acts: tuple[Act, ...]
    compiled: CompiledClass
    examples: list[dict[str, Any]]

    def act_in_force(self, on: date) -> Act | None:
        """The act keeping the class in force on a day."""
        return act_in_force(self.acts, on)


@dataclass(frozen=True, slots=True)
class UnencodedFact:
    """A generic law known to be in force by a day whose clauses the registry does not hold:
    a structure with its core (`trigger`) and no control of its own there may be covered."""

    key: str
    jurisdiction: str
    name: str
    schedule: str
    trigger: Chem.Mol
    trigger_description: str
    known_in_force_by: date
    citation: str
    source: str
    quote: str
    why_unencoded: str

    def concerns(self, mol: Chem.Mol) -> bool:
        """True when the structure has the law's core."""
        return bool(mol.HasSubstructMatch(self.trigger))


@dataclass(frozen=True, slots=True)
class ExclusionFact:
    """A substance (one stereoisomer: a full InChIKey) that the law applying in `jurisdiction`
    names as outside `excluded_from`, shown in force by `in_force_by`. `written_in` is the
    jurisdiction whose text says so (the UN's for the EU, which applies the UN schedules)."""

    jurisdiction: str
    written_in: str
    name: str
    excluded_from: str
    smiles: str
    inchikey: str
    in_force_by: date
    citation: str
    source: str
    quote: str


@dataclass(slots=True)
class Snapshot:
    """Everything the checks need, read once from the database."""

    digest: str | None
    jurisdictions: dict[str, str]
    members: dict[str, frozenset[str]]
    substances: list[SubstanceFact]
    classes: list[ClassFact]
    unencoded: list[UnencodedFact] = field(default_factory=list)
    exclusions: dict[str, list[ExclusionFact]] = field(default_factory=dict)

    @classmethod
    def from_session(cls, session: Session) -> Snapshot:
        """Read the registry (and reported substances) from the database."""
        last = latest_load(session)
        juris = list(session.execute(select(Jurisdiction)).scalars())
        subs = list(session.execute(select(Substance).order_by(col(Substance.id))).scalars())
        acts: dict[int, dict[str, list[Act]]] = defaultdict(lambda: defaultdict(list))
        # a jurisdiction that includes another's schedules (the EU, the UN conventions)
        # gets those acts too, labelled with where they come from
        heirs: dict[str, list[str]] = defaultdict(list)
        for j in juris:
            for inc in j.included_codes():
                heirs[inc].append(j.code)
        for a in session.execute(select(ControlAction)).scalars():
            act = _act(a, a.jurisdiction)
            acts[a.substance_id][a.jurisdiction].append(act)
            for heir in heirs.get(a.jurisdiction, ()):
                acts[a.substance_id][heir].append(
                    replace(
                        act,
                        jurisdiction=heir,
                        citation=f"{a.jurisdiction}: {a.citation}",
                        inherited_from=a.jurisdiction,
                    )
                )
        syns: dict[int, list[str]] = defaultdict(list)
        for s in session.execute(select(Synonym)).scalars():
            syns[s.substance_id].append(s.name)
        apps: dict[int, list[AppearanceFact]] = defaultdict(list)
        for p in session.execute(select(Appearance)).scalars():
            apps[p.substance_id].append(
                AppearanceFact(
                    p.reported_date,
                    p.reported_precision,
                    p.place,
                    p.reporter_type,
                    p.reporter,
                    p.source,
                )
            )
        facts = [
            SubstanceFact(
                id=s.id or 0,
                key=s.key,
                name=s.name,
                smiles=s.smiles,
                inchikey=s.inchikey,
                connectivity=s.connectivity,
                formula=s.formula,
                family=s.family,
                nps=s.nps,
                origin=s.origin,
                synonyms=tuple(syns.get(s.id or 0, ())),
                cas=s.cas,
                stereo=s.stereo,
                acts={
                    j: tuple(sorted(v, key=lambda a: a.effective_date))
                    for j, v in acts[s.id or 0].items()
                },
                appearances=tuple(sorted(apps.get(s.id or 0, ()), key=lambda p: p.earliest)),
            )
            for s in subs
        ]
        class_acts: dict[int, list[Act]] = defaultdict(list)
        defs = list(session.execute(select(ClassDefinition)).scalars())
        jur_of = {c.id: c.jurisdiction for c in defs}
        for ca in session.execute(select(ClassAction)).scalars():
            class_acts[ca.class_id].append(_act(ca, jur_of[ca.class_id]))
        classes = [
            ClassFact(
                id=c.id or 0,
                key=c.key,
                jurisdiction=c.jurisdiction,
                name=c.name,
                schedule=c.schedule,
                source=c.source,
                acts=tuple(sorted(class_acts[c.id or 0], key=lambda a: a.effective_date)),
                compiled=compile_class(c.key, c.rules),
                examples=list(c.examples),
            )
            for c in defs
        ]
        unencoded = [
            UnencodedFact(
                key=u.key,
                jurisdiction=u.jurisdiction,
                name=u.name,
                schedule=u.schedule,
                trigger=Chem.MolFromSmarts(u.trigger),
                trigger_description=u.trigger_description,
                known_in_force_by=u.known_in_force_by,
                citation=u.citation,
                source=u.source,
                quote=u.quote,
                why_unencoded=u.why_unencoded,
            )
            for u in session.execute(select(UnencodedLaw).order_by(col(UnencodedLaw.key))).scalars()
        ]
        exclusions: dict[str, list[ExclusionFact]] = defaultdict(list)
        for x in session.execute(
            select(Exclusion).order_by(col(Exclusion.jurisdiction), col(Exclusion.id))
        ).scalars():
            fact = ExclusionFact(
                jurisdiction=x.jurisdiction,
                written_in=x.jurisdiction,
                name=x.name,
                excluded_from=x.excluded_from,
                smiles=x.input_smiles,
                inchikey=x.inchikey,
                in_force_by=x.in_force_by,
                citation=x.citation,
                source=x.source,
                quote=x.quote,
            )
            exclusions[x.inchikey].append(fact)
            for heir in heirs.get(x.jurisdiction, ()):
                exclusions[x.inchikey].append(
                    replace(fact, jurisdiction=heir, citation=f"{x.jurisdiction}: {x.citation}")
                )
        return cls(
            digest=last.digest if last else None,
            jurisdictions={j.code: j.name for j in juris},
            members={j.code: frozenset(j.member_codes()) for j in juris},
            substances=facts,
            classes=classes,
            unencoded=unencoded,
            exclusions=dict(exclusions),
        )

    def excluded_smiles(self, name: str, loose: Callable[[str], str]) -> str | None:
        """The structure of a substance the law names as excluded, by that name compared
        with `loose` (case, spaces and dashes aside), or None."""
        wanted = loose(name)
        for facts in self.exclusions.values():
            for x in facts:
                if loose(x.name) == wanted:
                    return x.smiles
        return None

    def exclusions_of(self, inchikey: str, jurisdiction: str, on: date) -> list[ExclusionFact]:
        """What the law of a jurisdiction excludes this exact structure from, in force on a day
        (an exclusion is known only from the day its text shows it)."""
        return [
            x
            for x in self.exclusions.get(inchikey, ())
            if x.jurisdiction == jurisdiction and x.in_force_by <= on
        ]

    def classes_in_force(self, jurisdiction: str, on: date) -> list[tuple[ClassFact, Act]]:
        """Class definitions of a jurisdiction in force on a day, with the act keeping each."""
        out = []
        for c in self.classes:
            if c.jurisdiction == jurisdiction:
                act = c.act_in_force(on)
                if act is not None:
                    out.append((c, act))
        return out


def _act(row: ControlAction | ClassAction, jurisdiction: str) -> Act:
    precision = getattr(row, "effective_precision", "day") or "day"
    stated = PartialDate.of(row.effective_date, precision) if precision != "day" else None
    return Act(
        jurisdiction=jurisdiction,
        kind=row.kind,
        schedule=getattr(row, "schedule", "") or "",
        effective_date=stated.latest if stated else row.effective_date,
        end_date=row.end_date,
        citation=row.citation,
        source=row.source,
        stated=stated,
    )
