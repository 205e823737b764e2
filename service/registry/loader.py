"""Load a validated registry into the database in one transaction.

The database is made to match the files: rows are inserted, updated or deleted by their
natural keys, so loading the same files twice changes nothing. Rows that came through the
API (appearances, reported substances) are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapper
from sqlmodel import Session, SQLModel, col, select

from service.errors import RegistryInvalid
from service.models import (
    Appearance,
    ClassAction,
    ClassDefinition,
    ControlAction,
    Exclusion,
    Jurisdiction,
    Origin,
    RegistryLoad,
    Substance,
    Synonym,
    UnencodedLaw,
)
from service.models.common import utcnow
from service.registry.formats import Registry, read_registry


@dataclass(slots=True)
class LoadResult:
    """What a load did: `changed` is False when the files matched the database already."""

    digest: str
    changed: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    load_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON output."""
        return {
            "digest": self.digest,
            "changed": self.changed,
            "counts": self.counts,
            "load_id": self.load_id,
        }


def latest_load(session: Session) -> RegistryLoad | None:
    """The most recent registry load, if any."""
    stmt = select(RegistryLoad).order_by(col(RegistryLoad.id).desc()).limit(1)
    return session.exec(stmt).first()


def load_registry(
    engine: Engine,
    directory: Path,
    *,
    force: bool = False,
    today: date | None = None,
    after_load: Callable[[Connection], object] | None = None,
) -> LoadResult:
    """Validate every file, then load them in one transaction; raise RegistryInvalid on problems.

    `after_load` runs in the same transaction once the rows are written (the composition
    root passes the cartridge's structure sync)."""
    reg = read_registry(directory, today=today)
    if reg.problems:
        raise RegistryInvalid(reg.problems)
    with Session(engine) as session:
        last = latest_load(session)
        if last is not None and last.digest == reg.digest and not force:
            return LoadResult(reg.digest, changed=False)
        try:
            counts = _apply(session, reg)
            changed = any(v for c in counts.values() for k, v in c.items() if k != "unchanged")
            counts["files"] = dict(sorted(reg.rows_per_file.items()))
            load = RegistryLoad(
                directory=str(directory),
                digest=reg.digest,
                checksums=reg.checksums,
                counts=counts,
            )
            session.add(load)
            session.flush()
            if after_load is not None:
                after_load(session.connection())
            session.commit()
        except Exception:
            session.rollback()
            raise
        return LoadResult(reg.digest, changed=changed, counts=counts, load_id=load.id)


# ----------------------------------------------------------------------------- set-based sync
#
# Each table is brought to match the files with set-based statements: its rows are read once
# as plain dicts keyed by their natural key and compared in Python, then the changes go out as
# one DELETE ... WHERE id IN (...), one bulk UPDATE by primary key and one bulk INSERT. Rows of a deleted substance or class go with it (ON DELETE
# CASCADE), so every table is read after the tables it depends on have been written.

Row = dict[str, Any]

_DELETE_CHUNK = 500  # ids per DELETE ... WHERE id IN (...), well under every driver's limit


@dataclass(slots=True)
class _Plan:
    """The statements that bring one table to match the files, and what they count as."""

    insert: list[Row] = field(default_factory=list)
    update: list[Row] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def touches(self) -> bool:
        """True when anything is inserted, updated or deleted."""
        return bool(self.insert or self.update or self.delete)


def _rows(session: Session, model: type[SQLModel]) -> list[Row]:
    """Every row of a table as a plain dict (no ORM objects, so nothing to keep in sync)."""
    mapper: Mapper[Any] = sa_inspect(model)
    return [dict(m) for m in session.execute(mapper.local_table.select()).mappings()]


def _changed(row: Row, values: Row) -> bool:
    """True when the row differs from the values in any column they name."""
    return any(row[k] != v for k, v in values.items())


def _diff(
    existing: dict[Any, Row],
    wanted: Iterable[tuple[Any, Row]],
    *,
    pk: str = "id",
    deletable: Callable[[Row], bool] = lambda _row: True,
) -> _Plan:
    """Plan the sync of `existing` rows to `wanted` values, both keyed by natural key.

    `wanted` values hold every column the files set, natural key included. A key wanted twice
    is planned as a second insert, so the database's unique constraint refuses it."""
    plan = _Plan()
    left = dict(existing)
    for key, values in wanted:
        row = left.pop(key, None)
        if row is None:
            plan.insert.append(values)
            plan.counts["inserted"] += 1
        elif _changed(row, values):
            plan.update.append({**values, pk: row[pk]})
            plan.counts["updated"] += 1
        else:
            plan.counts["unchanged"] += 1
    for row in left.values():
        if deletable(row):
            plan.delete.append(row[pk])
            plan.counts["deleted"] += 1
    return plan


def _write(session: Session, model: type[SQLModel], plan: _Plan) -> None:
    """Run a plan: deletes first (freeing unique keys), then updates by primary key, inserts."""
    mapper: Mapper[Any] = sa_inspect(model)
    (pk,) = mapper.primary_key
    for i in range(0, len(plan.delete), _DELETE_CHUNK):
        session.execute(delete(model).where(pk.in_(plan.delete[i : i + _DELETE_CHUNK])))
    if plan.update:
        session.execute(update(model), plan.update)
    if plan.insert:
        session.execute(insert(model), plan.insert)


def _apply(session: Session, reg: Registry) -> dict[str, dict[str, int]]:
    """Bring every registry table to match the files; return what changed, per table."""
    now = utcnow()
    counts: dict[str, Counter[str]] = {}

    counts["jurisdictions"] = _sync_jurisdictions(session, reg)
    key_to_id, counts["substances"] = _sync_substances(session, reg, now)
    counts["synonyms"] = _sync_synonyms(session, reg, key_to_id)
    counts["actions"] = _sync_actions(session, reg, key_to_id)
    counts["appearances"] = _sync_appearances(session, reg, key_to_id, now)
    counts["classes"] = _sync_classes(session, reg)
    counts["unencoded"] = _sync_unencoded(session, reg)
    counts["exclusions"] = _sync_exclusions(session, reg)
    return {k: dict(v) for k, v in counts.items()}


def _sync_jurisdictions(session: Session, reg: Registry) -> Counter[str]:
    """Insert or update the jurisdictions of the files; none is ever deleted."""
    existing = {r["code"]: r for r in _rows(session, Jurisdiction)}
    wanted = (
        (
            j.code,
            {
                "code": j.code,
                "name": j.name,
                "kind": j.kind,
                "members": j.members,
                "includes": j.includes,
                "source": j.source,
            },
        )
        for j in reg.jurisdictions
    )
    plan = _diff(existing, wanted, pk="code", deletable=lambda _row: False)
    _write(session, Jurisdiction, plan)
    return plan.counts


def _sync_substances(
    session: Session, reg: Registry, now: datetime
) -> tuple[dict[str, int], Counter[str]]:
    """Sync substances; return the id of each registry key and the counts.

    A file row matches a substance by key, or adopts a reported (API) substance with the same
    InChIKey. A registry substance gone from the files is deleted, unless API appearances
    point at it and its structure is no longer in the files: then it is kept as reported."""
    rows = _rows(session, Substance)
    by_key = {r["key"]: r for r in rows}
    by_inchikey = {r["inchikey"]: r for r in rows}
    wanted_keys = {s.key for s in reg.substances}
    wanted_inchikeys = {s.identity.inchikey for s in reg.substances}
    reported = set(
        session.exec(
            select(Appearance.substance_id)
            .where(col(Appearance.origin) == Origin.api.value)
            .distinct()
        ).all()
    )
    plan = _Plan()
    # free InChIKeys first: a registry substance whose structure moved to another key
    for r in rows:
        if r["origin"] == Origin.registry and r["key"] not in wanted_keys:
            if r["id"] in reported and r["inchikey"] not in wanted_inchikeys:
                plan.update.append({"id": r["id"], "origin": Origin.api.value})
                plan.counts["kept_as_reported"] += 1
            else:
                plan.delete.append(r["id"])
                plan.counts["deleted"] += 1
    for s in reg.substances:
        ident = s.identity
        values: Row = {
            "key": s.key,
            "name": s.name,
            "systematic_name": s.systematic_name,
            "name_source": s.name_source,
            "cas": s.cas,
            "input_smiles": s.input_smiles,
            "smiles": ident.smiles,
            "inchi": ident.inchi,
            "inchikey": ident.inchikey,
            "connectivity": ident.connectivity,
            "formula": ident.formula,
            "family": s.family,
            "stereo": s.stereo,
            "nps": s.nps,
            "source": s.source,
            "notes": s.notes,
            "origin": Origin.registry.value,
        }
        row = by_key.get(s.key)
        if row is None:
            adopted = by_inchikey.get(ident.inchikey)
            if adopted is not None and adopted["origin"] == Origin.api:
                row = adopted
        if row is None:
            plan.insert.append({**values, "created_at": now, "updated_at": now})
            plan.counts["inserted"] += 1
        elif _changed(row, values):
            plan.update.append({**values, "id": row["id"], "updated_at": now})
            plan.counts["updated"] += 1
        else:
            plan.counts["unchanged"] += 1
    _write(session, Substance, plan)
    key_to_id = {r["key"]: r["id"] for r in _rows(session, Substance) if r["key"] in wanted_keys}
    return key_to_id, plan.counts


def _sync_synonyms(session: Session, reg: Registry, key_to_id: dict[str, int]) -> Counter[str]:
    """Make the synonyms of registry substances those of the files (first spelling wins)."""
    ids = set(key_to_id.values())
    existing = {
        (r["substance_id"], r["name_norm"]): r
        for r in _rows(session, Synonym)
        if r["substance_id"] in ids
    }
    wanted: dict[tuple[int, str], Row] = {}
    for s in reg.substances:
        sid = key_to_id[s.key]
        for name in s.synonyms:
            norm = name.casefold()
            wanted.setdefault((sid, norm), {"substance_id": sid, "name": name, "name_norm": norm})
    plan = _diff(existing, wanted.items())
    _write(session, Synonym, plan)
    return plan.counts


def _sync_actions(session: Session, reg: Registry, key_to_id: dict[str, int]) -> Counter[str]:
    """Make the control actions those of the files: the files are the whole truth."""
    existing = {
        (r["substance_id"], r["jurisdiction"], r["kind"], r["effective_date"]): r
        for r in _rows(session, ControlAction)
    }
    wanted = []
    for a in reg.actions:
        sid = key_to_id[a.substance]
        values: Row = {
            "substance_id": sid,
            "jurisdiction": a.jurisdiction,
            "kind": a.kind,
            "effective_date": a.effective_date,
            "schedule": a.schedule,
            "effective_precision": a.effective_precision,
            "end_date": a.end_date,
            "citation": a.citation,
            "source": a.source,
            "code": a.code,
            "secondary_source": a.secondary_source,
            "notes": a.notes,
        }
        wanted.append(((sid, a.jurisdiction, a.kind, a.effective_date), values))
    plan = _diff(existing, wanted)
    _write(session, ControlAction, plan)
    return plan.counts


def _sync_appearances(
    session: Session, reg: Registry, key_to_id: dict[str, int], now: datetime
) -> Counter[str]:
    """Sync the registry's appearances; API appearances are kept.

    An API appearance the files now state becomes a registry one (its origin changes, so it
    counts as updated)."""
    existing = {
        (
            r["substance_id"],
            r["reported_date"],
            r["reported_precision"],
            r["place"],
            r["reporter_type"],
        ): r
        for r in _rows(session, Appearance)
    }
    wanted = []
    for p in reg.appearances:
        sid = key_to_id[p.substance]
        precision = p.date.precision.value
        values: Row = {
            "substance_id": sid,
            "reported_date": p.date.earliest,
            "reported_precision": precision,
            "place": p.place,
            "reporter_type": p.reporter_type,
            "reporter": p.reporter,
            "source": p.source,
            "notes": p.notes,
            "origin": Origin.registry.value,
        }
        wanted.append(((sid, p.date.earliest, precision, p.place, p.reporter_type), values))
    plan = _diff(existing, wanted, deletable=lambda row: row["origin"] == Origin.registry)
    for values in plan.insert:
        values.update(verdicts=None, created_at=now)
    _write(session, Appearance, plan)
    return plan.counts


def _sync_classes(session: Session, reg: Registry) -> Counter[str]:
    """Sync class definitions and their acts; a class counts as updated if either changed."""
    existing = {r["key"]: r for r in _rows(session, ClassDefinition)}
    wanted: dict[str, Row] = {
        c.key: {
            "key": c.key,
            "jurisdiction": c.jurisdiction,
            "name": c.name,
            "schedule": c.schedule,
            "legal_text": c.legal_text,
            "rules": c.rules,
            "examples": c.examples,
            "source": c.source,
            "notes": c.notes,
        }
        for c in reg.classes
    }
    plan = _diff(existing, wanted.items())
    _write(session, ClassDefinition, plan)

    class_ids = {r["key"]: r["id"] for r in _rows(session, ClassDefinition)}
    old_acts: dict[int, dict[tuple[str, date], Row]] = {}
    for r in _rows(session, ClassAction):
        old_acts.setdefault(r["class_id"], {})[(r["kind"], r["effective_date"])] = r
    acts = _Plan()
    counts: Counter[str] = Counter()
    for c in reg.classes:
        cid = class_ids[c.key]
        wanted_acts = (
            (
                (a.kind, a.effective_date),
                {
                    "class_id": cid,
                    "kind": a.kind,
                    "effective_date": a.effective_date,
                    "end_date": a.end_date,
                    "citation": a.citation,
                    "source": a.source,
                    "notes": a.notes,
                },
            )
            for a in c.actions
        )
        p = _diff(old_acts.get(cid, {}), wanted_acts)
        acts.insert += p.insert
        acts.update += p.update
        acts.delete += p.delete
        row = existing.get(c.key)
        if row is None:
            counts["inserted"] += 1
        elif p.touches() or _changed(row, wanted[c.key]):
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    _write(session, ClassAction, acts)
    if plan.counts["deleted"]:
        counts["deleted"] = plan.counts["deleted"]
    return counts


def _sync_unencoded(session: Session, reg: Registry) -> Counter[str]:
    """Sync the generic laws known but not encoded, by key."""
    existing = {r["key"]: r for r in _rows(session, UnencodedLaw)}
    wanted = (
        (
            u.key,
            {
                "key": u.key,
                "jurisdiction": u.jurisdiction,
                "name": u.name,
                "schedule": u.schedule,
                "trigger": u.trigger,
                "trigger_description": u.trigger_description,
                "known_in_force_by": u.known_in_force_by,
                "citation": u.citation,
                "source": u.source,
                "quote": u.quote,
                "why_unencoded": u.why_unencoded,
                "notes": u.notes,
            },
        )
        for u in reg.unencoded
    )
    plan = _diff(existing, wanted)
    _write(session, UnencodedLaw, plan)
    return plan.counts


def _sync_exclusions(session: Session, reg: Registry) -> Counter[str]:
    """Sync the substances the law names as excluded, by (jurisdiction, InChIKey, entry)."""
    existing = {
        (r["jurisdiction"], r["inchikey"], r["excluded_from"]): r for r in _rows(session, Exclusion)
    }
    wanted = (
        (
            (x.jurisdiction, x.identity.inchikey, x.excluded_from),
            {
                "jurisdiction": x.jurisdiction,
                "name": x.name,
                "excluded_from": x.excluded_from,
                "input_smiles": x.input_smiles,
                "inchikey": x.identity.inchikey,
                "structure_source": x.structure_source,
                "in_force_by": x.in_force_by,
                "citation": x.citation,
                "source": x.source,
                "secondary_source": x.secondary_source,
                "quote": x.quote,
                "notes": x.notes,
            },
        )
        for x in reg.exclusions
    )
    plan = _diff(existing, wanted)
    _write(session, Exclusion, plan)
    return plan.counts
