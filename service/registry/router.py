"""HTTP routes of the registry: statistics."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.deps import SessionDep
from service.registry import service
from service.registry.export import COLUMNS, export_rows, to_csv

router = APIRouter(prefix="/registry", tags=["registry"])


@router.get("/stats")
def get_registry_stats(session: SessionDep) -> dict[str, Any]:
    """Counts per table, jurisdiction, family and file, NPS coverage and rows to review."""
    return service.registry_stats(session)


@router.get(
    "/export",
    responses={
        200: {
            "description": "one row per control action (and class coverage), as JSON or CSV",
            "content": {"text/csv": {}, "application/json": {}},
        }
    },
)
def get_registry_export(
    request: Request,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="default: by Accept")
    ] = None,
) -> Any:
    """The registry as one table: name, inchikey, smiles, family, jurisdiction, schedule, kind, dates, citation, source."""
    index = request.app.state.index_holder.get()
    rows = export_rows(index.snapshot)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="analogwatch-registry.csv"'},
        )
    return [{k: r[k] for k in COLUMNS} for r in rows]
