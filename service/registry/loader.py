"""Load a validated registry into the database in one transaction.

The database is made to match the files: rows are inserted, updated or deleted by their
natural keys, so loading the same files twice changes nothing. Rows that came through the
API (appearances, reported substances) are kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.check.cartridge import sync_structures
from service.errors import RegistryInvalid
from service.models import (
    Appearance,
    ClassAction,
    ClassDefinition,
    ControlAction,
    Jurisdiction,
    Origin,
    RegistryLoad,
    Substance,
    Synonym,
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
    stmt = select(RegistryLoad).order_by(RegistryLoad.id.desc()).limit(1)  # type: ignore[union-attr]
    return session.exec(stmt).scalars().first()  # type: ignore[call-overload]


def load_registry(
    engine: Engine,
    directory: Path,
    *,
    force: bool = False,
    today: date | None = None,
    fp_radius: int = 2,
    fp_bits: int = 2048,
) -> LoadResult:
    """Validate every file, then load them in one transaction; raise RegistryInvalid on problems.

    Where the RDKit cartridge is installed, its structure tables are synced in the same
    transaction with Morgan fingerprints of `fp_radius` and `fp_bits` (the settings')."""
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
            sync_structures(session.connection(), radius=fp_radius, bits=fp_bits)
            session.commit()
        except Exception:
            session.rollback()
            raise
        return LoadResult(reg.digest, changed=changed, counts=counts, load_id=load.id)


def _scalars(session: Session, stmt: Any) -> list[Any]:
    return list(session.execute(stmt).scalars().all())


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; return True when anything changed."""
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return changed


def _apply(session: Session, reg: Registry) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {
        t: Counter()
        for t in ("jurisdictions", "substances", "synonyms", "actions", "appearances", "classes")
    }

    # jurisdictions
    existing_j = {j.code: j for j in _scalars(session, select(Jurisdiction))}
    for row in reg.jurisdictions:
        values = {
            "name": row.name,
            "kind": row.kind,
            "members": row.members,
            "includes": row.includes,
            "source": row.source,
        }
        j = existing_j.get(row.code)
        if j is None:
            session.add(Jurisdiction(code=row.code, **values))
            counts["jurisdictions"]["inserted"] += 1
        else:
            counts["jurisdictions"]["updated" if _assign(j, values) else "unchanged"] += 1
    session.flush()

    # substances: match by key, or adopt a reported (API) substance with the same InChIKey
    subs = _scalars(session, select(Substance))
    by_key = {s.key: s for s in subs}
    by_inchikey = {s.inchikey: s for s in subs}
    wanted_keys = {row.key for row in reg.substances}
    wanted_inchikeys = {row.identity.inchikey for row in reg.substances}
    # free InChIKeys first: a registry substance whose structure moved to another key
    for s in subs:
        if s.origin == Origin.registry and s.key not in wanted_keys:
            has_api_rows = session.execute(
                select(Appearance.id).where(
                    Appearance.substance_id == s.id, Appearance.origin == Origin.api
                )
            ).first()
            if has_api_rows and s.inchikey not in wanted_inchikeys:
                s.origin = Origin.api.value  # keep it as a reported compound
                counts["substances"]["kept_as_reported"] += 1
            else:
                session.delete(s)
                counts["substances"]["deleted"] += 1
    session.flush()
    now = utcnow()
    key_to_id: dict[str, int] = {}
    for row in reg.substances:
        ident = row.identity
        values = {
            "key": row.key,
            "name": row.name,
            "systematic_name": row.systematic_name,
            "name_source": row.name_source,
            "cas": row.cas,
            "input_smiles": row.input_smiles,
            "smiles": ident.smiles,
            "inchi": ident.inchi,
            "inchikey": ident.inchikey,
            "connectivity": ident.connectivity,
            "formula": ident.formula,
            "family": row.family,
            "stereo": row.stereo,
            "nps": row.nps,
            "source": row.source,
            "notes": row.notes,
            "origin": Origin.registry.value,
        }
        s = by_key.get(row.key)
        if s is None:
            adopted = by_inchikey.get(ident.inchikey)
            if adopted is not None and adopted.origin == Origin.api and session.get(Substance, adopted.id):
                s = adopted
        if s is None:
            s = Substance(**values)
            session.add(s)
            counts["substances"]["inserted"] += 1
        elif _assign(s, values):
            s.updated_at = now
            counts["substances"]["updated"] += 1
        else:
            counts["substances"]["unchanged"] += 1
        session.flush()
        assert s.id is not None
        key_to_id[row.key] = s.id
        _sync_synonyms(session, s.id, row.synonyms, counts["synonyms"])

    # control actions: the files are the whole truth
    existing_a = {
        (a.substance_id, a.jurisdiction, a.kind, a.effective_date): a
        for a in _scalars(session, select(ControlAction))
    }
    seen: set[tuple[int, str, str, date]] = set()
    for arow in reg.actions:
        nk = (key_to_id[arow.substance], arow.jurisdiction, arow.kind, arow.effective_date)
        seen.add(nk)
        values = {
            "schedule": arow.schedule,
            "effective_precision": arow.effective_precision,
            "end_date": arow.end_date,
            "citation": arow.citation,
            "source": arow.source,
            "code": arow.code,
            "secondary_source": arow.secondary_source,
            "notes": arow.notes,
        }
        a = existing_a.get(nk)
        if a is None:
            session.add(
                ControlAction(
                    substance_id=nk[0], jurisdiction=nk[1], kind=nk[2], effective_date=nk[3], **values
                )
            )
            counts["actions"]["inserted"] += 1
        else:
            counts["actions"]["updated" if _assign(a, values) else "unchanged"] += 1
    for nk, a in existing_a.items():
        if nk not in seen and session.get(Substance, nk[0]) is not None:
            session.delete(a)
            counts["actions"]["deleted"] += 1

    # appearances from the registry; API appearances are never touched here
    existing_p = {
        (p.substance_id, p.reported_date, p.reported_precision, p.place, p.reporter_type): p
        for p in _scalars(session, select(Appearance))
    }
    seen_p: set[tuple[int, date, str, str, str]] = set()
    for prow in reg.appearances:
        pk = (
            key_to_id[prow.substance],
            prow.date.earliest,
            prow.date.precision.value,
            prow.place,
            prow.reporter_type,
        )
        seen_p.add(pk)
        values = {"reporter": prow.reporter, "source": prow.source, "notes": prow.notes}
        p = existing_p.get(pk)
        if p is None:
            session.add(
                Appearance(
                    substance_id=pk[0],
                    reported_date=pk[1],
                    reported_precision=pk[2],
                    place=pk[3],
                    reporter_type=pk[4],
                    origin=Origin.registry.value,
                    **values,
                )
            )
            counts["appearances"]["inserted"] += 1
        elif p.origin == Origin.api:
            # the files now state a report that came in through the API: it becomes reviewed
            _assign(p, {**values, "origin": Origin.registry.value})
            counts["appearances"]["updated"] += 1
        else:
            counts["appearances"]["updated" if _assign(p, values) else "unchanged"] += 1
    for pk, p in existing_p.items():
        if pk not in seen_p and p.origin == Origin.registry and session.get(Substance, pk[0]):
            session.delete(p)
            counts["appearances"]["deleted"] += 1

    # class definitions and their acts
    existing_c = {c.key: c for c in _scalars(session, select(ClassDefinition))}
    for crow in reg.classes:
        values = {
            "jurisdiction": crow.jurisdiction,
            "name": crow.name,
            "schedule": crow.schedule,
            "legal_text": crow.legal_text,
            "rules": crow.rules,
            "examples": crow.examples,
            "source": crow.source,
            "notes": crow.notes,
        }
        c = existing_c.pop(crow.key, None)
        if c is None:
            c = ClassDefinition(key=crow.key, **values)
            session.add(c)
            session.flush()
            counts["classes"]["inserted"] += 1
            new, changed = True, True
        else:
            new, changed = False, _assign(c, values)
        old = {(a.kind, a.effective_date): a for a in _scalars(
            session, select(ClassAction).where(ClassAction.class_id == c.id)
        )}
        for act in crow.actions:
            avalues = {
                "end_date": act.end_date,
                "citation": act.citation,
                "source": act.source,
                "notes": act.notes,
            }
            a = old.pop((act.kind, act.effective_date), None)
            if a is None:
                session.add(ClassAction(class_id=c.id, kind=act.kind, effective_date=act.effective_date, **avalues))
                changed = True
            else:
                changed = _assign(a, avalues) or changed
        for a in old.values():
            session.delete(a)
            changed = True
        if not new:
            counts["classes"]["updated" if changed else "unchanged"] += 1
    for c in existing_c.values():
        session.delete(c)
        counts["classes"]["deleted"] += 1
    session.flush()
    return {k: dict(v) for k, v in counts.items()}


def _sync_synonyms(session: Session, substance_id: int, names: list[str], counts: Counter[str]) -> None:
    existing = {
        s.name_norm: s
        for s in _scalars(session, select(Synonym).where(Synonym.substance_id == substance_id))
    }
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.casefold(), name)
    for norm, name in wanted.items():
        syn = existing.pop(norm, None)
        if syn is None:
            session.add(Synonym(substance_id=substance_id, name=name, name_norm=norm))
            counts["inserted"] += 1
        else:
            counts["updated" if _assign(syn, {"name": name}) else "unchanged"] += 1
    for syn in existing.values():
        session.delete(syn)
        counts["deleted"] += 1
