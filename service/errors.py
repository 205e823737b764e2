"""The service's exception tree and its HTTP handlers (one place maps errors to statuses)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

if TYPE_CHECKING:
    from service.registry.formats import Problem


class AnalogwatchError(Exception):
    """Base of every error the service raises on purpose."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RegistryInvalid(AnalogwatchError):
    """The schedules/ files have problems; nothing was loaded."""

    status_code = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the registry files; nothing loaded")


class NotFound(AnalogwatchError):
    """A requested resource does not exist."""

    status_code = 404


class UnprocessableInput(AnalogwatchError):
    """A request value is well-formed JSON but cannot be used; answered like FastAPI's 422s."""

    status_code = 422

    def __init__(self, loc: tuple[str | int, ...], reason: str) -> None:
        super().__init__(reason)
        self.loc = loc


class UnknownJurisdiction(UnprocessableInput):
    """A jurisdiction code the registry does not know; the message lists the known ones."""

    def __init__(
        self,
        code: str,
        known: Collection[str] = (),
        loc: tuple[str | int, ...] = ("query", "jurisdiction"),
    ) -> None:
        listed = ", ".join(sorted(known))
        super().__init__(
            loc, f"unknown jurisdiction {code!r}" + (f"; known: {listed}" if listed else "")
        )
        self.code = code


def require_jurisdictions(
    codes: Iterable[str],
    known: Collection[str],
    loc: tuple[str | int, ...] = ("query", "jurisdiction"),
) -> None:
    """Raise UnknownJurisdiction for the first code the registry does not know."""
    for code in codes:
        if code not in known:
            raise UnknownJurisdiction(code, known, loc)


class DatabaseUnavailable(AnalogwatchError):
    """The database cannot be reached."""

    status_code = 503


def _body(exc: AnalogwatchError) -> dict[str, Any]:
    if isinstance(exc, UnprocessableInput):
        return {"detail": [{"loc": list(exc.loc), "msg": exc.message, "type": "value_error"}]}
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, RegistryInvalid):
        body["problems"] = [str(p) for p in exc.problems]
    return body


PROBLEM_JSON = "application/problem+json"


def wants_problem(request: Request) -> bool:
    """True when the client asks for RFC 9457 problem details (`Accept: application/problem+json`)."""
    return PROBLEM_JSON in request.headers.get("accept", "")


def _respond(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error as the client asked: FastAPI's `{"detail": ...}` shape by default, or RFC 9457
    problem details (`type`, `title`, `status`, `detail`, `instance`, plus the same fields)."""
    if not wants_problem(request):
        return JSONResponse(status_code=status, content=body, headers=headers)
    detail = body.get("detail")
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "instance": request.url.path,
    }
    if isinstance(detail, list):  # field errors: each names its location and reason
        problem["detail"] = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', []))}: {e.get('msg', '')}" for e in detail
        )
        problem["errors"] = detail
    else:
        problem["detail"] = str(detail)
    problem.update({k: v for k, v in body.items() if k != "detail"})
    return JSONResponse(
        status_code=status, content=problem, headers=headers, media_type=PROBLEM_JSON
    )


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnalogwatchError)
    headers = {"Retry-After": "5"} if exc.status_code == 503 else None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    return _respond(request, exc.status_code, _body(exc), headers)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
    return _respond(
        request,
        503,
        {"detail": f"database unavailable: {reason}; retry shortly"},
        {"Retry-After": "5"},
    )


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not wants_problem(request):
        return await request_validation_exception_handler(request, exc)
    return _respond(request, 422, {"detail": jsonable_encoder(exc.errors())})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not wants_problem(request):
        return await http_exception_handler(request, exc)
    return _respond(
        request, exc.status_code, {"detail": exc.detail}, dict(exc.headers) if exc.headers else None
    )


def install_handlers(app: FastAPI) -> None:
    """Map the exception tree to JSON error responses; a lost database is a 503, not a 500.

    Every error answers FastAPI's `{"detail": ...}` shape, or RFC 9457 problem details when
    the request's Accept header names `application/problem+json`."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    app.add_exception_handler(AnalogwatchError, _handle)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
