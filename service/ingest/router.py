"""HTTP routes of ingest: report one appearance, import a CSV/SDF file (curator key), list them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError

from service.auth import CuratorDep
from service.check.index import IndexHolder
from service.deps import MAX_ROW_ID, Offset, SessionDep, SettingsDep
from service.ingest import files, service
from service.ingest.schemas import (
    AppearanceCreate,
    AppearanceCreated,
    AppearancesPublic,
    ImportSummary,
)
from service.limits import rate_limit
from service.models import Appearance, Substance

router = APIRouter(prefix="/appearances", tags=["appearances"])

_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no X-API-Key header"},
    403: {"description": "the key is not a curator key"},
    422: {"description": "a field is invalid: every problem, each naming its field"},
}


def _invalid(
    problems: list[files.Problem], prefix: tuple[str | int, ...], *, by_line: bool
) -> RequestValidationError:
    errors = [
        {
            "loc": [*prefix, p.line, p.field] if by_line else [*prefix, p.field],
            "msg": p.reason,
            "type": "value_error",
            "line": p.line,
        }
        for p in problems
    ]
    return RequestValidationError(errors)


def _holder(request: Request) -> IndexHolder:
    holder: IndexHolder = request.app.state.index_holder
    return holder


@router.post(
    "",
    status_code=201,
    response_model=AppearanceCreated,
    responses={
        200: {
            "model": AppearanceCreated,
            "description": "the same report was stored already; nothing changed",
        },
        **_WRITE_RESPONSES,
    },
)
def post_appearance(
    body: AppearanceCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _: CuratorDep,
) -> Any:
    """Report a compound's appearance; a new structure becomes a new substance, checked at once."""
    holder = _holder(request)
    values = {k: v for k, v in body.model_dump(exclude_none=True).items() if v is not None}
    values["reporter_type"] = body.reporter_type.value
    row = files.RawRow(1, {k: str(v) for k, v in values.items()})
    prepared, problems = service.validate(
        holder.get(), [row], today=date.today(), threshold=settings.similarity_threshold
    )
    if problems:
        raise _invalid(problems, ("body",), by_line=False)
    result = service.apply(session, prepared)
    session.commit()
    holder.invalidate()
    app = session.get(Appearance, result.appearance_ids[0])
    assert app is not None
    sub = session.get(Substance, app.substance_id)
    assert sub is not None
    if not result.created[0]:
        response.status_code = 200
    return {
        "created": result.created[0],
        "new_substance": result.new_substances == 1,
        "appearance": service.appearance_public(app, sub),
    }


@router.post(
    "/import",
    response_model=ImportSummary,
    responses={
        **_WRITE_RESPONSES,
        429: {"description": "too many imports from this client; see Retry-After"},
    },
    dependencies=[Depends(rate_limit("import", "rate_limit_import"))],
)
def post_import(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: CuratorDep,
    file: Annotated[UploadFile, File(description="a .csv or .sdf file (columns in the README)")],
) -> Any:
    """Import a CSV or SDF file of reports: every row validated first, then one transaction."""
    data = file.file.read(files.MAX_BYTES + 1)
    rows, problems = files.read_rows(data, file.filename or "upload")
    holder = _holder(request)
    if not problems:
        prepared, problems = service.validate(
            holder.get(), rows, today=date.today(), threshold=settings.similarity_threshold
        )
    if problems:
        raise _invalid(problems, ("body", "file"), by_line=True)
    result = service.apply(session, prepared)
    session.commit()
    holder.invalidate()
    return result.as_dict()


@router.get("", response_model=AppearancesPublic)
def get_appearances(
    session: SessionDep,
    substance_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ROW_ID, description="only this substance's reports"),
    ] = None,
    origin: Annotated[
        Literal["registry", "api"] | None, Query(description="registry files or the API")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> Any:
    """List appearances, newest first, with the verdicts stored when each was ingested."""
    count, data = service.list_appearances(
        session, substance_id=substance_id, origin=origin, limit=limit, offset=offset
    )
    return {"count": count, "data": data}
