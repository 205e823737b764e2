"""HTTP routes of the scheduling-lag analytics: rows (JSON or CSV), statistics, curves, plot."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service.check.index import IndexHolder
from service.errors import UnprocessableInput
from service.lag import plot, service
from service.lag.csvout import rows_csv
from service.lag.schemas import (
    BasisLiteral,
    CurvesPublic,
    GroupByLiteral,
    LagRowsPublic,
    LagSummaryPublic,
    OutcomeLiteral,
)
from service.registry.snapshot import Snapshot

router = APIRouter(prefix="/lag", tags=["lag"])


def get_snapshot(request: Request) -> Snapshot:
    """The registry snapshot of the current watch index (rebuilt when the registry changed)."""
    holder: IndexHolder = request.app.state.index_holder
    return holder.get().snapshot


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
JurisdictionQ = Annotated[
    list[str] | None, Query(description="jurisdiction code (repeatable; default all)")
]
FamilyQ = Annotated[str | None, Query(max_length=40, description="drug family")]
BasisQ = Annotated[BasisLiteral, Query(description="global or local first appearance")]
AsOfQ = Annotated[date | None, Query(description="count controls up to this day (default today)")]
GroupByQ = Annotated[GroupByLiteral, Query(description="grouping of the statistics")]


def _table(
    snapshot: Snapshot,
    jurisdiction: list[str] | None,
    family: str | None,
    basis: str,
    as_of: date | None,
    outcome: str | None = None,
) -> service.LagTable:
    day = as_of or date.today()
    if day > date.today():
        raise UnprocessableInput(("query", "as_of"), "as_of cannot be in the future")
    return service.lag_rows(
        snapshot, as_of=day, basis=basis, jurisdictions=jurisdiction, family=family, outcome=outcome
    )


@router.get(
    "",
    response_model=LagRowsPublic,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV when asked for"}},
)
def get_lag_rows(
    request: Request,
    snapshot: SnapshotDep,
    jurisdiction: JurisdictionQ = None,
    family: FamilyQ = None,
    basis: BasisQ = "global",
    as_of: AsOfQ = None,
    outcome: Annotated[
        OutcomeLiteral | None, Query(description="only rows with this outcome")
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv for CSV (or send Accept: text/csv)")
    ] = None,
) -> Any:
    """List lag rows, one per substance and jurisdiction; CSV with `?format=csv` or `Accept: text/csv`."""
    table = _table(snapshot, jurisdiction, family, basis, as_of, outcome)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            content=rows_csv(table.rows),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="lag-{table.basis}-{table.as_of}.csv"'
            },
        )
    return {
        "data": [r.as_dict() for r in table.rows],
        "count": len(table.rows),
        "as_of": table.as_of,
        "basis": table.basis,
        "n_without_appearance": len(table.without_appearance),
        "n_interval_censored": sum(r.censoring == "interval" for r in table.rows),
        "n_censored_unencoded": sum(r.unencoded_law is not None for r in table.rows),
    }


@router.get("/summary", response_model=LagSummaryPublic)
def get_lag_summary(
    snapshot: SnapshotDep,
    jurisdiction: JurisdictionQ = None,
    family: FamilyQ = None,
    basis: BasisQ = "global",
    as_of: AsOfQ = None,
    group_by: Annotated[
        GroupByLiteral | None, Query(description="one grouping (default: all four)")
    ] = None,
    a: Annotated[str | None, Query(max_length=100, description="log-rank: first group")] = None,
    b: Annotated[str | None, Query(max_length=100, description="log-rank: second group")] = None,
) -> Any:
    """Summarize lags: n, censored, medians, quartiles and Kaplan-Meier, with an optional log-rank test."""
    if (a is None) != (b is None):
        raise UnprocessableInput(
            ("query", "b" if b is None else "a"), "a log-rank test needs both a and b"
        )
    if a is not None and group_by is None:
        raise UnprocessableInput(("query", "group_by"), "a log-rank test needs group_by")
    table = _table(snapshot, jurisdiction, family, basis, as_of)
    compare = (a, b) if a is not None and b is not None else None
    return service.summary(table, group_by=[group_by] if group_by else None, compare=compare)


@router.get("/curve", response_model=CurvesPublic)
def get_lag_curve(
    snapshot: SnapshotDep,
    jurisdiction: JurisdictionQ = None,
    family: FamilyQ = None,
    basis: BasisQ = "global",
    as_of: AsOfQ = None,
    group_by: GroupByQ = "jurisdiction",
) -> Any:
    """Give the Kaplan-Meier curve of time to control per group, with 95% confidence bands."""
    table = _table(snapshot, jurisdiction, family, basis, as_of)
    return {
        "as_of": table.as_of,
        "basis": table.basis,
        "group_by": group_by,
        "data": service.curves(table.rows, by=group_by),
    }


@router.get(
    "/plot.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the curves as SVG"}},
)
def get_lag_plot(
    snapshot: SnapshotDep,
    jurisdiction: JurisdictionQ = None,
    family: FamilyQ = None,
    basis: BasisQ = "global",
    as_of: AsOfQ = None,
    group_by: GroupByQ = "jurisdiction",
) -> Response:
    """Draw the Kaplan-Meier curves as SVG: one line per group, censoring marks, months on the axis."""
    table = _table(snapshot, jurisdiction, family, basis, as_of)
    title = f"Time to control by {group_by}, {table.basis} basis, as of {table.as_of}"
    svg = plot.render(service.curves(table.rows, by=group_by), fmt="svg", title=title)
    return Response(content=svg, media_type="image/svg+xml")
