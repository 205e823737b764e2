"""HTTP routes of the reports: list, Atom feeds, one report as JSON, CSV or HTML, the latest, run now."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from service.auth import CuratorDep
from service.check.index import IndexHolder
from service.deps import Offset, RowId, SessionDep, SettingsDep
from service.errors import NotFound, require_jurisdictions
from service.models import Report
from service.reports import feeds, service
from service.reports.render import report_html
from service.reports.schemas import ReportPublic, ReportsPublic

router = APIRouter(prefix="/reports", tags=["reports"])

Format = Annotated[
    Literal["json", "csv", "html"] | None,
    Query(description="json, csv or html; default: by the Accept header, else JSON"),
]
_RENDERINGS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the report as JSON, CSV (a line per jurisdiction and row) or an HTML page with structure pictures",
        "content": {"text/csv": {}, "text/html": {}},
    },
    404: {"description": "no such report"},
}


def _render(report: Report, request: Request, fmt: str | None) -> Response:
    accept = request.headers.get("accept", "")
    if fmt is None:
        fmt = "html" if "text/html" in accept else "csv" if "text/csv" in accept else "json"
    if fmt == "csv":
        return Response(
            service.to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="analogwatch-report-{report.id}.csv"'
            },
        )
    if fmt == "html":
        return HTMLResponse(report_html(report))
    return JSONResponse(service.report_public(report))


@router.get("", response_model=ReportsPublic)
def get_reports(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> Any:
    """List stored reports, newest first, failed runs included (without their rows)."""
    count, reports = service.list_reports(session, limit=limit, offset=offset)
    return {"count": count, "data": [service.report_public(r, with_results=False) for r in reports]}


class AtomResponse(Response):
    """An Atom document."""

    media_type = feeds.FEED_MEDIA_TYPE


# declared before /{report_id}, which would otherwise take "feed.atom" for an id
@router.get(
    "/feed.atom",
    operation_id="reports_feed",
    response_class=AtomResponse,
    responses={
        200: {
            "description": "an Atom feed: one entry per report, or per newly flagged compound of `jurisdiction`",
            "content": {feeds.FEED_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        422: {"description": "unknown jurisdiction"},
    },
)
def get_reports_feed(
    request: Request,
    session: SessionDep,
    jurisdiction: Annotated[
        str | None,
        Query(
            max_length=8,
            description="a jurisdiction code: its newly flagged compounds, one entry each",
            examples=["CN"],
        ),
    ] = None,
) -> Response:
    """Serve an Atom feed of the lookalike reports, or of one jurisdiction's newly flagged compounds."""
    code = jurisdiction.strip().upper() if jurisdiction and jurisdiction.strip() else None
    name = None
    if code is not None:
        holder: IndexHolder = request.app.state.index_holder
        known = holder.get().snapshot.jurisdictions
        require_jurisdictions([code], known)
        name = known[code]
    req = feeds.FeedRequest(
        base_url=str(request.base_url), jurisdiction=code, jurisdiction_name=name
    )
    return AtomResponse(feeds.reports_feed(session, req))


@router.get("/latest", response_model=ReportPublic, responses=_RENDERINGS)
def get_latest_report(request: Request, session: SessionDep, format: Format = None) -> Response:
    """The newest successful lookalike report, as JSON, CSV or HTML."""
    report = service.latest(session)
    if report is None:
        raise NotFound(
            "no successful report yet: run `analogwatch report lookalikes` or POST /reports/run"
        )
    return _render(report, request, format)


@router.get("/{report_id}", response_model=ReportPublic, responses=_RENDERINGS)
def get_report(
    report_id: RowId, request: Request, session: SessionDep, format: Format = None
) -> Response:
    """One stored report (or failed run), as JSON, CSV or HTML."""
    return _render(service.get(session, report_id=report_id), request, format)


@router.post(
    "/run",
    status_code=201,
    response_model=ReportPublic,
    responses={
        401: {"description": "no X-API-Key header"},
        403: {"description": "the key is not a curator key"},
        500: {"description": "the run failed; it is stored as a failed report"},
    },
)
async def post_run_report(request: Request, settings: SettingsDep, _: CuratorDep) -> Response:
    """Run the lookalike report now, store it and return it."""
    report = await run_in_threadpool(
        service.run_lookalikes,
        request.app.state.engine,
        settings,
        trigger="api",
        index=request.app.state.index_holder.get,
    )
    status = 201 if report.status == "succeeded" else 500
    return JSONResponse(service.report_public(report), status_code=status)
