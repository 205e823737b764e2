"""Substance search and detail over the in-memory index."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.check.index import WatchIndex, loose_name
from service.check.service import brand_substance
from service.dates import PartialDate
from service.registry.snapshot import SubstanceFact


def search(
    index: WatchIndex,
    *,
    q: str | None = None,
    family: str | None = None,
    jurisdiction: str | None = None,
    on: date | None = None,
) -> list[SubstanceFact]:
    """Substances matching every given filter, sorted by name."""
    needle = q.strip().casefold() if q else ""
    loose = loose_name(needle)  # "u47700" finds U-47700, "acetyl-fentanyl" acetyl fentanyl
    # a name the registry does not hold but that names one of its substances: a brand
    exact = (index.lookup_name(needle) or brand_substance(index, needle)) if needle else None
    out = []
    for s in index.snapshot.substances:
        if family and s.family != family:
            continue
        if jurisdiction and s.act_in_force(jurisdiction, on or date.today()) is None:
            continue
        if needle and s is not exact:
            hay = (s.name, s.key, s.cas, s.inchikey, *s.synonyms)
            if not any(
                needle in h.casefold() or (loose and loose in loose_name(h)) for h in hay if h
            ):
                continue
        out.append(s)
    out.sort(key=lambda s: (s is not exact, s.name.casefold()))
    return out


def summary(s: SubstanceFact) -> dict[str, Any]:
    """The short form of a substance for lists."""
    return {
        "id": s.id,
        "key": s.key,
        "name": s.name,
        "family": s.family,
        "inchikey": s.inchikey,
        "smiles": s.smiles,
        "formula": s.formula,
        "nps": s.nps,
        "origin": s.origin,
        "jurisdictions": sorted(s.acts),
    }


def detail(index: WatchIndex, s: SubstanceFact, on: date | None = None) -> dict[str, Any]:
    """Everything known about one substance: acts, class coverage, appearances."""
    day = on or date.today()
    classes = []
    for c in index.snapshot.classes:
        m = c.compiled.match(s.mol)
        if m.member or m.near_miss:
            first = min((a.effective_date for a in c.acts), default=None)
            classes.append(
                {
                    "key": c.key,
                    "name": c.name,
                    "jurisdiction": c.jurisdiction,
                    "member": m.member,
                    "near_miss_reason": m.near_miss_reason,
                    "clauses": sorted(m.clause_keys),
                    "first_effective_date": first.isoformat() if first else None,
                    "in_force": c.act_in_force(day) is not None,
                    "acts": [a.as_dict() for a in c.acts],
                }
            )
    return {
        **summary(s),
        "synonyms": list(s.synonyms),
        "cas": s.cas,
        "status": {
            j: (act.as_dict() if (act := s.act_in_force(j, day)) else None)
            for j in sorted(index.snapshot.jurisdictions)
        },
        "actions": {j: [a.as_dict() for a in acts] for j, acts in sorted(s.acts.items())},
        "classes": classes,
        "appearances": [
            {
                "date": str(PartialDate.of(p.earliest, p.precision)),
                "precision": p.precision,
                "place": p.place,
                "reporter_type": p.reporter_type,
                "reporter": p.reporter,
                "source": p.source,
            }
            for p in s.appearances
        ],
    }
