"""The registry as one table: a row per control action, joined with its substance.

Substances with no action anywhere get one row with empty action fields. Class
definitions are exported with the members the registry knows: a row of kind `class` per
act of the class and per registry substance the class's rules cover.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from service.registry.snapshot import Snapshot

COLUMNS = (
    "name",
    "inchikey",
    "smiles",
    "family",
    "jurisdiction",
    "schedule",
    "kind",
    "effective_date",
    "end_date",
    "citation",
    "source",
)


def export_rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Every act (past or in force) with its substance, then class coverage; sorted."""
    rows: list[dict[str, Any]] = []
    registry = [s for s in snapshot.substances if s.origin == "registry"]
    for s in registry:
        base = {"name": s.name, "inchikey": s.inchikey, "smiles": s.smiles, "family": s.family}
        own = [a for acts in s.acts.values() for a in acts if a.inherited_from is None]
        for a in own:
            rows.append({**base, **_act_fields(a.jurisdiction, a.schedule, a.kind, a)})
        if not own:
            rows.append({**base, **dict.fromkeys(COLUMNS[4:], "")})
    for c in snapshot.classes:
        members = [s for s in registry if c.compiled.match(s.mol).member]
        for a in c.acts:
            for s in members:
                rows.append(
                    {
                        "name": s.name,
                        "inchikey": s.inchikey,
                        "smiles": s.smiles,
                        "family": s.family,
                        **_act_fields(c.jurisdiction, c.schedule, "class", a),
                        "citation": f"{c.name} ({c.key}): {a.citation}",
                    }
                )
    rows.sort(
        key=lambda r: (r["name"].casefold(), r["jurisdiction"], r["effective_date"], r["kind"])
    )
    return rows


def _act_fields(jurisdiction: str, schedule: str, kind: str, a: Any) -> dict[str, Any]:
    return {
        "jurisdiction": jurisdiction,
        "schedule": schedule,
        "kind": kind,
        "effective_date": a.effective_written,
        "end_date": a.end_date.isoformat() if a.end_date else "",
        "citation": a.citation,
        "source": a.source,
    }


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text with the documented columns in order."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
