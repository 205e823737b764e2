"""Queries over the loaded registry: statistics and the review list."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from service.models import (
    Appearance,
    ClassAction,
    ClassDefinition,
    ControlAction,
    Jurisdiction,
    RegistryLoad,
    Substance,
    Synonym,
)
from service.registry.formats import Registry
from service.registry.loader import latest_load


def table_counts(session: Session) -> dict[str, int]:
    """Row count of every table."""
    tables = {
        "substances": Substance,
        "synonyms": Synonym,
        "jurisdictions": Jurisdiction,
        "control_actions": ControlAction,
        "class_definitions": ClassDefinition,
        "class_actions": ClassAction,
        "appearances": Appearance,
        "registry_loads": RegistryLoad,
    }
    return {
        name: int(session.execute(select(func.count()).select_from(model)).scalar_one())
        for name, model in tables.items()
    }


def registry_stats(session: Session) -> dict[str, Any]:
    """Counts per table, jurisdiction, family and file; NPS appearance coverage; review list."""
    subs = list(session.execute(select(Substance)).scalars())
    actions = list(session.execute(select(ControlAction)).scalars())
    appearances = list(session.execute(select(Appearance)).scalars())
    classes = list(session.execute(select(ClassDefinition)).scalars())

    per_j: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"actions": 0, "substances": set(), "classes": 0}
    )
    for a in actions:
        per_j[a.jurisdiction]["actions"] += 1
        per_j[a.jurisdiction]["substances"].add(a.substance_id)
    for c in classes:
        per_j[c.jurisdiction]["classes"] += 1
    by_jurisdiction = {
        code: {"actions": v["actions"], "substances": len(v["substances"]), "classes": v["classes"]}
        for code, v in sorted(per_j.items())
    }

    by_family = dict(sorted(Counter(s.family for s in subs).items()))
    nps = [s for s in subs if s.nps]
    with_app = {p.substance_id for p in appearances}
    nps_covered = sum(1 for s in nps if s.id in with_app)

    first_control: dict[int, Any] = {}
    for a in actions:
        if a.kind != "removal":
            cur = first_control.get(a.substance_id)
            if cur is None or a.effective_date < cur[0]:
                first_control[a.substance_id] = (a.effective_date, a.jurisdiction)
    names = {s.id: s.name for s in subs}
    review = []
    for p in appearances:
        fc = first_control.get(p.substance_id)
        if fc is not None and p.reported_date > fc[0]:
            review.append(
                {
                    "substance": names.get(p.substance_id, ""),
                    "appearance": f"{p.reported_date} ({p.reported_precision})",
                    "place": p.place,
                    "first_control": f"{fc[0]} ({fc[1]})",
                    "reason": "first reported after its first control",
                }
            )

    last = latest_load(session)
    by_file: dict[str, Any] = {}
    if last is not None:
        by_file = {
            name: {"rows": last.counts.get("files", {}).get(name), "sha256": digest}
            for name, digest in sorted(last.checksums.items())
        }
    return {
        "tables": table_counts(session),
        "by_jurisdiction": by_jurisdiction,
        "by_family": by_family,
        "nps": {
            "substances": len(nps),
            "with_appearance": nps_covered,
            "share_with_appearance": round(nps_covered / len(nps), 3) if nps else None,
        },
        "files": by_file,
        "last_load": None
        if last is None
        else {"at": last.loaded_at.isoformat(), "digest": last.digest, "counts": last.counts},
        "review": sorted(review, key=lambda r: (r["substance"], r["appearance"])),
    }


def _describe(path: str, reg: Registry) -> str:
    """What one file of schedules/ holds, from its place in the layout."""
    names = {j.code.lower(): j.name for j in reg.jurisdictions}
    parts = path.removesuffix(".csv").removesuffix(".toml").split("/")
    if parts[0] == "jurisdictions":
        return "the jurisdictions"
    if parts[0] == "substances":
        return f"substances of the {parts[1]} family"
    if parts[0] == "appearances":
        return f"first reports of {parts[1]} substances"
    if parts[0] == "actions" and len(parts) == 3:
        return f"acts of {names.get(parts[1], parts[1].upper())} on {parts[2]} substances"
    if parts[0] == "classes":
        found = [c for c in reg.classes if c.where == path]
        return (
            f"class definition: {found[0].name} ({found[0].jurisdiction})"
            if found
            else "class definition"
        )
    if parts[0] == "unencoded":
        laws = [u for u in reg.unencoded if u.where == path]
        return (
            f"generic law known but not encoded (caveat only): {laws[0].name} "
            f"({laws[0].jurisdiction})"
            if laws
            else "generic law known but not encoded"
        )
    if parts[0] == "exclusions" and len(parts) == 2:
        return (
            f"substances named as excluded from a schedule by the law of {parts[1].upper()} "
            "(an answer's `exclusions`, never a status)"
        )
    return ""


def files_markdown(reg: Registry) -> str:
    """The table of files of a schedules/ directory (path, rows, what it holds) as Markdown."""
    lines = ["| file | rows | holds |", "|---|---:|---|"]
    for path in sorted(reg.rows_per_file):
        lines.append(f"| `{path}` | {reg.rows_per_file[path]} | {_describe(path, reg)} |")
    n_acts = Counter(a.jurisdiction for a in reg.actions)
    lines += [
        "",
        f"{len(reg.substances)} substances, {len(reg.actions)} acts "
        f"({', '.join(f'{k} {v}' for k, v in sorted(n_acts.items()))}), "
        f"{len(reg.appearances)} first reports, {len(reg.classes)} class definitions"
        + (
            f", {len(reg.unencoded)} generic law{'s' if len(reg.unencoded) != 1 else ''} "
            "known but not encoded"
            if reg.unencoded
            else ""
        )
        + (
            f", {len(reg.exclusions)} named exclusion{'s' if len(reg.exclusions) != 1 else ''}."
            if reg.exclusions
            else "."
        ),
    ]
    return "\n".join(lines) + "\n"
