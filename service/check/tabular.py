"""A check's answer as table rows: one row per query and jurisdiction, for CSV.

`GET /check?format=csv`, the check page's CSV download and its table read the same fields,
so a spreadsheet gets the same columns whichever way the question was asked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from service.check.verdict import CheckResult, ClassMatchOut, MatchedSubstance, Verdict

CHECK_CSV_FIELDS = [
    "n",
    "id",
    "query",
    "smiles",
    "inchikey",
    "as_of",
    "jurisdiction",
    "status",
    "matched",
    "schedule",
    "citation",
    "source",
    "reasons",
    "nearest",
    "similarity",
    "error",
    "caveats",
    "excluded_by",
]
MAX_QUERY_CHARS = 2000  # of the query echoed in a row: a molfile is long


def verdict_fields(v: Verdict) -> dict[str, Any]:
    """What a verdict matched, its legal basis and its nearest controlled neighbour."""
    basis: MatchedSubstance | ClassMatchOut | None = v.substance or v.class_match
    if v.substance:
        matched = v.substance.name
    elif v.class_match:
        clauses = "; ".join(c.key for c in v.class_match.clauses)
        matched = f"{v.class_match.name} [{clauses}]" if clauses else v.class_match.name
    else:
        matched = ""
    nearest = v.neighbors[0] if v.neighbors else None
    return {
        "status": v.status.value,
        "matched": matched,
        "schedule": basis.schedule if basis else "",
        "citation": basis.citation if basis else "",
        "source": basis.source if basis else "",
        "reasons": " ".join(v.reasons),
        "nearest": nearest.name if nearest else "",
        "similarity": nearest.similarity if nearest else "",
        # generic laws the registry does not encode that may control it here, by key
        "caveats": " ".join(c.key for c in v.caveats),
        # the legal texts that name the query as excluded here ("; " between two)
        "excluded_by": "; ".join(x.citation for x in v.exclusions),
    }


def result_rows(
    result: CheckResult | None, *, n: int, id: str, query: str, error: str | None = None
) -> Iterator[dict[str, Any]]:
    """The rows of one query: one per jurisdiction, or one error row when it was not read."""
    base = {"n": n, "id": id, "query": query[:MAX_QUERY_CHARS]}
    if result is None:
        yield {**base, "error": error or ""}
        return
    for v in result.verdicts:
        yield {
            **base,
            "smiles": result.smiles,
            "inchikey": result.inchikey,
            "as_of": result.as_of.isoformat(),
            "jurisdiction": v.jurisdiction,
            **verdict_fields(v),
        }


def to_csv(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> str:
    """Rows as CSV text with a header; cells that a spreadsheet would run as formulas are quoted."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    # a user's text starting with = + - @ would run as a formula in a spreadsheet
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
