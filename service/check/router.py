"""HTTP routes: check one structure or a batch, browse substances, draw structures."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from service.check import service, substances, tabular
from service.check.index import IndexHolder, WatchIndex
from service.check.schemas import (
    SUBSTANCE_EXAMPLE,
    BatchRequest,
    BatchResponse,
    CheckRequest,
    CheckResult,
    InputType,
    SubstanceDetail,
    SubstanceList,
)
from service.chem import depict
from service.chem.errors import StructureError
from service.chem.inputs import MAX_TEXT
from service.config import Settings
from service.deps import Offset, SettingsDep
from service.errors import NotFound, UnprocessableInput, require_jurisdictions
from service.limits import rate_limit

router = APIRouter(tags=["check"])


async def get_index(request: Request) -> WatchIndex:
    """The current watch index (rebuilt when the registry changed)."""
    holder: IndexHolder = request.app.state.index_holder
    return holder.get()


IndexDep = Annotated[WatchIndex, Depends(get_index)]


def _options(body: CheckRequest | BatchRequest, settings: Settings) -> service.CheckOptions:
    return _options_of(body.jurisdictions, body.as_of, body.top_k, body.threshold, settings)


def _options_of(
    jurisdictions: list[str] | None,
    as_of: date | None,
    top_k: int,
    threshold: float | None,
    settings: Settings,
) -> service.CheckOptions:
    # one verdict per jurisdiction, in the order first asked ("un", "UN" is one question)
    codes = tuple(dict.fromkeys(c.upper() for c in jurisdictions)) if jurisdictions else None
    return service.CheckOptions(
        as_of=as_of or date.today(),
        jurisdictions=codes,
        threshold=settings.similarity_threshold if threshold is None else threshold,
        top_k=top_k,
        elsewhere_threshold=settings.elsewhere_threshold,
    )


def _known_jurisdictions(
    index: WatchIndex, options: service.CheckOptions, where: str = "body"
) -> None:
    """Refuse an unknown jurisdiction code, located as the body's `jurisdictions` or the
    query's `jurisdiction`."""
    loc = (where, "jurisdictions" if where == "body" else "jurisdiction")
    require_jurisdictions(options.jurisdictions or (), index.snapshot.jurisdictions, loc)


async def _check_one(
    index: WatchIndex,
    structure: str,
    input_type: str | None,
    options: service.CheckOptions,
    where: str,
) -> CheckResult:
    """One check; `where` ("body" or "query") locates a 422."""
    _known_jurisdictions(index, options, where)
    # in memory the check is computed inline on the event loop: one bounded molecule takes
    # about a millisecond, less than the thread-pool round trip it would otherwise cost. The
    # cartridge backend waits on the database, and OPSIN (a systematic name) on a JVM: neither
    # may block the loop.
    try:
        if index.search is None and not service.may_read_name(structure, input_type):
            return service.check(index, structure, options, input_type)
        return await run_in_threadpool(service.check, index, structure, options, input_type)
    except StructureError as exc:
        raise UnprocessableInput((where, "structure"), str(exc)) from None


_CHECK_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"description": "the structure cannot be read, or a bound is exceeded"}
}


@router.post("/check", response_model=CheckResult, responses=_CHECK_RESPONSES)
async def post_check(body: CheckRequest, index: IndexDep, settings: SettingsDep) -> Any:
    """Check one structure: controlled, controlled by a class, lookalike or not flagged, per jurisdiction."""
    options = _options(body, settings)
    result = await _check_one(index, body.structure, body.input_type, options, "body")
    return json_response(result.model_dump(mode="json"))


_GET_CHECK_PARAMETERS = (
    "structure",
    "jurisdiction",
    "as_of",
    "input_type",
    "top_k",
    "threshold",
    "format",
)


def _no_unknown_parameters(request: Request) -> None:
    """A misspelt parameter would silently ask another question ("jurisdictions=UN" answering
    for every jurisdiction): refuse it by name, with the parameter it may mean."""
    for name in request.query_params:
        if name not in _GET_CHECK_PARAMETERS:
            close = difflib.get_close_matches(name, _GET_CHECK_PARAMETERS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnprocessableInput(("query", name), f"unknown parameter {name[:50]!r}{hint}")


@router.get(
    "/check",
    response_model=CheckResult,
    responses={
        200: {
            "description": "the check as JSON, or with `format=csv` (or `Accept: text/csv`) one "
            "CSV row per jurisdiction, the columns of the check page's CSV",
            "content": {"text/csv": {}},
        },
        **_CHECK_RESPONSES,
    },
    dependencies=[Depends(_no_unknown_parameters)],
)
async def get_check(
    index: IndexDep,
    settings: SettingsDep,
    structure: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_TEXT,
            description="as `structure` of POST /check: SMILES, InChI, a registry name, synonym, "
            "CAS number or InChIKey, or a systematic name",
            examples=["oxycodone"],
        ),
    ],
    jurisdiction: Annotated[
        list[str] | None,
        Query(max_length=50, description="jurisdiction code (repeatable; default all)"),
    ] = None,
    as_of: Annotated[
        date | None, Query(description="legal status on this day (default: today)")
    ] = None,
    input_type: Annotated[
        InputType | None, Query(description="notation of `structure` (default: detected)")
    ] = None,
    top_k: Annotated[
        int, Query(ge=0, le=50, description="nearest controlled neighbours per jurisdiction")
    ] = 5,
    threshold: Annotated[
        float | None,
        Query(ge=0.0, le=1.0, description="lookalike similarity threshold (default: the setting)"),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None,
        Query(description="csv for CSV, one row per jurisdiction (or send Accept: text/csv)"),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    """The same check as POST /check, asked in the URL (`/check?structure=oxycodone&jurisdiction=UN`):
    a link to an answer, for a browser, a spreadsheet or a cache."""
    options = _options_of(jurisdiction, as_of, top_k, threshold, settings)
    result = await _check_one(index, structure, input_type, options, "query")
    if format == "csv" or (format is None and "text/csv" in (accept or "")):
        rows = tabular.result_rows(result, n=1, id="", query=structure)
        return Response(
            tabular.to_csv(rows, tabular.CHECK_CSV_FIELDS),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'inline; filename="check.csv"'},
        )
    return json_response(result.model_dump(mode="json"))


def json_response(data: Any) -> Response:
    """Serialize with the standard library: the check builds plain data in the documented
    shape (tested against the schema), so re-validating it through pydantic would only
    double the cost of a request."""
    return Response(orjson.dumps(data), media_type="application/json")


def _batch_results(
    index: WatchIndex, body: BatchRequest, options: service.CheckOptions
) -> Iterator[dict[str, Any]]:
    for i, item in enumerate(body.items):
        try:
            result = service.check(index, item.structure, options, item.input_type)
            yield {
                "index": i,
                "id": item.id,
                "result": result.model_dump(mode="json"),
                "error": None,
            }
        except StructureError as exc:
            yield {
                "index": i,
                "id": item.id,
                "result": None,
                "error": {"field": f"items[{i}].structure", "reason": str(exc)},
            }


@router.post(
    "/check/batch",
    dependencies=[Depends(rate_limit("check_batch", "rate_limit_batch"))],
    response_model=BatchResponse,
    responses={
        200: {
            "description": "JSON, or with `Accept: application/x-ndjson` one BatchResult per line, streamed",
            "content": {"application/x-ndjson": {}},
        },
        429: {"description": "too many batches from this client; see Retry-After"},
    },
)
def post_check_batch(
    body: BatchRequest, request: Request, index: IndexDep, settings: SettingsDep
) -> Any:
    """Check up to 10,000 structures; an unreadable item gets an error, the others their results."""
    options = _options(body, settings)
    _known_jurisdictions(index, options)
    if "application/x-ndjson" in request.headers.get("accept", ""):
        lines = (orjson.dumps(r) + b"\n" for r in _batch_results(index, body, options))
        return StreamingResponse(lines, media_type="application/x-ndjson")
    results = list(_batch_results(index, body, options))
    return json_response(
        {"count": len(results), "errors": sum(1 for r in results if r["error"]), "results": results}
    )


@router.get(
    "/check/depiction.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def get_check_depiction(
    index: IndexDep,
    settings: SettingsDep,
    structure: Annotated[
        str, Query(min_length=1, max_length=2000, description="SMILES, InChI or a registry name")
    ],
    jurisdiction: Annotated[str, Query(max_length=8)] = "US",
    as_of: date | None = None,
) -> Response:
    """Draw the query, highlighting the matched class core, the controlled substance it contains
    whole, or the part shared with its nearest neighbour."""
    code = jurisdiction.upper()
    options = service.CheckOptions(
        as_of=as_of or date.today(),
        jurisdictions=(code,),
        threshold=settings.similarity_threshold,
        top_k=1,
    )
    _known_jurisdictions(index, options)
    try:
        parsed, _ = service.resolve(index, structure)
    except StructureError as exc:
        raise UnprocessableInput(("query", "structure"), str(exc)) from None
    result = service.check_parsed(index, parsed, options, query=structure)
    verdict = result.verdicts[0]
    atoms: list[int] = []
    pointer = service.structural_evidence(verdict.why)
    if verdict.class_match:
        atoms = verdict.class_match.core_atoms
    elif pointer is not None and (found := service.evidence_atoms(index, parsed.mol, pointer)):
        atoms = found
    elif verdict.neighbors:
        other = index.by_id[verdict.neighbors[0].id]
        atoms = depict.common_atoms(parsed.mol, other.mol)
    return Response(depict.svg(parsed.mol, atoms), media_type="image/svg+xml")


@router.get(
    "/substances",
    tags=["substances"],
    response_model=SubstanceList,
    responses={
        200: {
            "content": {"application/json": {"example": {"count": 1, "data": [SUBSTANCE_EXAMPLE]}}}
        }
    },
)
def list_substances(
    index: IndexDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="name, synonym, CAS, key or InChIKey (substring)"),
    ] = None,
    family: Annotated[str | None, Query(max_length=40)] = None,
    jurisdiction: Annotated[
        str | None, Query(max_length=8, description="only substances controlled here")
    ] = None,
    controlled_on: Annotated[
        date | None, Query(description="day for `jurisdiction` (default today)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Search substances by name, synonym, InChIKey, family and control status; paginated."""
    if jurisdiction:
        require_jurisdictions([jurisdiction.upper()], index.snapshot.jurisdictions)
    found = substances.search(
        index,
        q=q,
        family=family,
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
        on=controlled_on or date.today(),
    )
    return {
        "count": len(found),
        "data": [substances.summary(s) for s in found[offset : offset + limit]],
    }


@router.get(
    "/substances/{substance_id}",
    tags=["substances"],
    response_model=SubstanceDetail,
    responses={404: {"description": "no substance with that id"}},
)
def get_substance(substance_id: int, index: IndexDep) -> dict[str, Any]:
    """One substance with its identifiers, acts per jurisdiction, class coverage and appearances."""
    s = index.by_id.get(substance_id)
    if s is None:
        raise NotFound(f"no substance with id {substance_id}")
    return substances.detail(index, s)


@router.get(
    "/substances/{substance_id}/depiction.svg",
    tags=["substances"],
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}},
        404: {"description": "no substance with that id"},
    },
)
def get_substance_depiction(substance_id: int, index: IndexDep) -> Response:
    """The structure of a substance as SVG."""
    s = index.by_id.get(substance_id)
    if s is None:
        raise NotFound(f"no substance with id {substance_id}")
    return Response(depict.svg(s.mol), media_type="image/svg+xml")
