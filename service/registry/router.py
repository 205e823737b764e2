"""HTTP routes of the registry: statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import SessionDep
from service.registry import service

router = APIRouter(prefix="/registry", tags=["registry"])


@router.get("/stats")
def get_registry_stats(session: SessionDep) -> dict[str, Any]:
    """Counts per table, jurisdiction, family and file, NPS coverage and rows to review."""
    return service.registry_stats(session)
