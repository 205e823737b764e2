"""What the pages show, as plain data built from the check engine and the lag analytics.

No HTTP and no HTML here: the router validates the query, calls these, and renders.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from service.check import batch, service, substances, tabular
from service.check.index import WatchIndex
from service.check.similarity import nearest_to_substance
from service.check.verdict import CheckResult, Verdict
from service.chem import depict
from service.chem.errors import StructureError
from service.chem.standardize import parse_smiles
from service.lag import service as lag
from service.registry.snapshot import SubstanceFact

PAGE_SIZE = 50
NEIGHBOURS = 8
SIMILAR = 10
PICTURE_LIMIT = 30  # structures drawn on the check page; the table and CSV have them all
STATUS_LABELS = {
    "controlled": "controlled",
    "controlled_by_class": "controlled by class",
    "lookalike": "lookalike",
    "not_flagged": "not flagged",
}


def svg_data_uri(svg: str) -> str:
    """An SVG as a data: URI for an <img> (the page's CSP allows data: images only)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def source_urls(text: str | None) -> list[str]:
    """The public http(s) addresses in a source field (some list several, split by `;`)."""
    return [t for t in re.split(r"[\s;,]+", text or "") if t.startswith(("https://", "http://"))]


def picture_of(smiles: str) -> str | None:
    """A structure from SMILES as a data: URI, or None when it does not parse."""
    try:
        return svg_data_uri(depict.svg(parse_smiles(smiles), width=240, height=180))
    except StructureError:
        return None


# --------------------------------------------------------------------------- search


def verdicts(index: WatchIndex, s: SubstanceFact, on: date, threshold: float) -> list[Verdict]:
    """The check verdict of a registry substance in every jurisdiction on a day."""
    parsed, _ = service.resolve(index, s.inchikey, "inchikey")
    options = service.CheckOptions(as_of=on, threshold=threshold, top_k=1)
    result = service.check_parsed(index, parsed, options, query=s.inchikey, named=s)
    return list(result.verdicts)


@dataclass(slots=True)
class SearchOutcome:
    """Substances found by text, or by structure (exact and similar), and a note."""

    found: list[SubstanceFact] = field(default_factory=list)
    count: int = 0
    similar: list[tuple[SubstanceFact, float]] = field(default_factory=list)
    structure: dict[str, Any] | None = None  # the query read as a structure
    note: str | None = None


def search(
    index: WatchIndex,
    *,
    q: str,
    family: str | None,
    jurisdiction: str | None,
    on: date,
    offset: int = 0,
) -> SearchOutcome:
    """Find substances by name, synonym, CAS or InChIKey; else read the query as a structure."""
    found = substances.search(index, q=q or None, family=family, jurisdiction=jurisdiction, on=on)
    out = SearchOutcome(found=found[offset : offset + PAGE_SIZE], count=len(found))
    if found or not q.strip():
        return out
    try:
        parsed, named = service.resolve(index, q)
    except StructureError as exc:
        out.note = f"No substance matches {q.strip()[:100]!r}, and it is not a structure: {exc}"
        return out
    ident = parsed.identity
    out.structure = {"smiles": ident.smiles, "inchikey": ident.inchikey, "formula": ident.formula}
    same = [index.by_inchikey[ident.inchikey]] if ident.inchikey in index.by_inchikey else []
    same += [
        s
        for s in index.by_connectivity.get(ident.connectivity, [])
        if s.id not in {x.id for x in same}
    ]
    if named is not None and named.id not in {x.id for x in same}:
        same.insert(0, named)
    keep = [
        s
        for s in same
        if (not family or s.family == family)
        and (not jurisdiction or s.act_in_force(jurisdiction, on) is not None)
    ]
    out.found, out.count = keep, len(keep)
    kept = {s.id for s in keep}
    among = [
        s.id
        for s in index.snapshot.substances
        if s.id not in kept
        and (not family or s.family == family)
        and (not jurisdiction or s.act_in_force(jurisdiction, on) is not None)
    ]
    for hit in index.similarity.nearest(index, parsed.mol, k=SIMILAR, among=among):
        out.similar.append((index.by_id[hit.substance_id], round(hit.similarity, 2)))
    if not keep:
        out.note = "The structure is not in the registry; the most similar substances follow."
    return out


# --------------------------------------------------------------------------- substance


def _date_key(text: str | None) -> str:
    return text or "9999"


def substance_view(
    index: WatchIndex, s: SubstanceFact, on: date, threshold: float
) -> dict[str, Any]:
    """Identifiers, a timeline and a lag per jurisdiction, and the nearest controlled neighbours."""
    snap = index.snapshot
    info = substances.detail(index, s, on)
    status = {v.jurisdiction: v for v in verdicts(index, s, on, threshold)}
    coverage = lag.class_coverage(snap)
    law = lag.class_law_dates(snap, on)
    jurisdictions = []
    for code, name in sorted(snap.jurisdictions.items()):
        places = {code} | set(snap.members.get(code, frozenset()))
        events: list[dict[str, Any]] = []
        for p in info["appearances"]:
            if p["place"] in places:
                events.append(
                    {
                        "date": p["date"],
                        "what": "first report",
                        "detail": f"{p['reporter']} ({p['reporter_type']}, {p['place']})",
                        "citation": "",
                        "source": p["source"],
                    }
                )
        for a in info["actions"].get(code, []):
            events.append(
                {
                    "date": a["effective_date"],
                    "what": a["kind"],
                    "detail": f"schedule {a['schedule']}"
                    + (f", until {a['end_date']}" if a["end_date"] else ""),
                    "citation": a["citation"],
                    "source": a["source"],
                }
            )
        for c in info["classes"]:
            if c["jurisdiction"] != code or not c["member"]:
                continue
            for a in c["acts"]:
                events.append(
                    {
                        "date": a["effective_date"],
                        "what": f"class ({a['kind']})",
                        "detail": c["name"],
                        "citation": a["citation"],
                        "source": a["source"],
                    }
                )
        events.sort(key=lambda e: _date_key(e["date"]))
        row = lag.lag_row(
            s,
            jurisdiction=code,
            basis=lag.Basis.global_,
            as_of=on,
            classes=coverage.get(s.id, ()),
            members=snap.members.get(code, frozenset()),
            class_law_date=law.get(code),
        )
        jurisdictions.append(
            {"code": code, "name": name, "verdict": status.get(code), "events": events, "lag": row}
        )
    controlled = {
        other.id: sorted(a.jurisdiction for a in other.controlled_anywhere(on))
        for other in snap.substances
        if other.connectivity != s.connectivity
    }
    among = [i for i, where in controlled.items() if where]
    neighbours = [
        {
            "substance": index.by_id[hit.substance_id],
            "similarity": round(hit.similarity, 2),
            "where": controlled[hit.substance_id],
        }
        for hit in nearest_to_substance(index, s.id, k=NEIGHBOURS, among=among)
    ]
    return {"info": info, "jurisdictions": jurisdictions, "neighbours": neighbours}


# --------------------------------------------------------------------------- check


def pasted_items(index: WatchIndex, text: str) -> list[batch.Item]:
    """One item per non-empty line: a registry name or a systematic name with spaces (whole
    line), or a structure or name and an id."""
    items = []
    for line in text.splitlines():
        t = line.strip()
        if not t or t.startswith("#"):
            continue
        if index.lookup_name(t) is not None or service.is_one_name(index, t):
            items.append(batch.Item(None, t))
            continue
        parts = t.split(None, 1)
        items.append(batch.Item(parts[1].strip() if len(parts) > 1 else None, parts[0]))
    return items


def file_items(path: Path, limit: int) -> list[batch.Item]:
    """Records of an uploaded .smi, .csv or .sdf file (at most limit + 1, to detect excess)."""
    out = []
    for item in batch.read_items(path):
        out.append(item)
        if len(out) > limit:
            break
    return out


def _picture(index: WatchIndex, item: batch.Item, result: CheckResult) -> dict[str, str] | None:
    """The query drawn with the class core, or the part shared with its nearest neighbour."""
    try:
        parsed, _ = service.resolve(index, item.structure, item.input_type)
    except StructureError:
        return None
    vs = result.verdicts
    by_class = next((v for v in vs if v.class_match), None)
    if by_class is not None and by_class.class_match is not None:
        cm = by_class.class_match
        caption = f"highlighted: core of {cm.name} ({by_class.jurisdiction})"
        return {"src": svg_data_uri(depict.svg(parsed.mol, cm.core_atoms)), "caption": caption}
    pointer = service.structural_evidence(e for v in vs for e in v.why)
    if pointer is not None and (atoms := service.evidence_atoms(index, parsed.mol, pointer)):
        where = ", ".join(p.jurisdiction for p in pointer.where)
        what = "contained whole" if pointer.signal == "contains_controlled" else "its scaffold"
        caption = f"highlighted: {pointer.name}, {what} ({where})"
        return {"src": svg_data_uri(depict.svg(parsed.mol, atoms)), "caption": caption}
    neighbours = [n for v in vs for n in v.neighbors]
    if not neighbours:
        return {"src": svg_data_uri(depict.svg(parsed.mol)), "caption": ""}
    best = max(neighbours, key=lambda n: n.similarity)
    if best.similarity >= 1.0:
        return {
            "src": svg_data_uri(depict.svg(parsed.mol)),
            "caption": f"identical to {best.name}",
        }
    atoms = depict.common_atoms(parsed.mol, index.by_id[best.id].mol)
    caption = f"highlighted: part shared with {best.name} (similarity {best.similarity:.2f})"
    return {"src": svg_data_uri(depict.svg(parsed.mol, atoms)), "caption": caption}


def check_items(
    index: WatchIndex,
    items: Sequence[batch.Item],
    options: service.CheckOptions,
    *,
    pictures: bool = True,
) -> list[dict[str, Any]]:
    """Check every item (an unreadable one gets its error); draw the first PICTURE_LIMIT."""
    rows = []
    for n, item in enumerate(items, 1):
        outcome = batch.check_item(index, item, options)
        picture = None
        if pictures and n <= PICTURE_LIMIT and outcome.result is not None:
            picture = _picture(index, item, outcome.result)
        rows.append(
            {
                "n": n,
                "item": item,
                "result": outcome.result,
                "error": outcome.error,
                "picture": picture,
            }
        )
    return rows


def check_csv_rows(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One CSV row per structure and jurisdiction; an unreadable structure gets one error row."""
    for row in rows:
        item = row["item"]
        yield from tabular.result_rows(
            row["result"], n=row["n"], id=item.id or "", query=item.structure, error=row["error"]
        )


# --------------------------------------------------------------------------- lag

CLASS_LAW = ("before", "after", "none")


def lag_table(
    index: WatchIndex,
    *,
    jurisdictions: list[str] | None,
    family: str | None,
    basis: str,
    as_of: date,
    class_law: str | None,
) -> lag.LagTable:
    """Lag rows under the page's filters (class_law: first appearance before/after class laws)."""
    table = lag.lag_rows(
        index.snapshot, as_of=as_of, basis=basis, jurisdictions=jurisdictions, family=family
    )
    if class_law:
        table = replace(table, rows=[r for r in table.rows if r.class_law == class_law])
    return table
