"""The service's exception tree and its HTTP handlers (one place maps errors to statuses)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


async def _handle(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnalogwatchError)
    headers = {"Retry-After": "5"} if exc.status_code == 503 else None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    return JSONResponse(status_code=exc.status_code, content=_body(exc), headers=headers)


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
    return JSONResponse(
        status_code=503,
        content={"detail": f"database unavailable: {reason}; retry shortly"},
        headers={"Retry-After": "5"},
    )


def install_handlers(app: FastAPI) -> None:
    """Map the exception tree to JSON error responses; a lost database is a 503, not a 500."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    app.add_exception_handler(AnalogwatchError, _handle)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
