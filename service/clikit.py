"""Shared pieces of the command line: consoles, one-line failures, JSON output.

The main CLI (service/cli.py) and the sub-commands declared beside their domains
(lag, backtest, …) import these, so no module needs the main CLI half-imported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from service.config import Settings, get_settings
from service.errors import AnalogwatchError, RegistryInvalid

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON data instead of a table")]
JurisdictionOpt = Annotated[
    list[str] | None,
    typer.Option("--jurisdiction", "-j", help="jurisdiction code (repeatable; default all)"),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line reason on stderr and exit non-zero."""
    err.print(f"error: {' '.join(message.split())}", markup=False, highlight=False)
    raise typer.Exit(code)


def friendly(fn: F) -> F:
    """Turn expected failures into a one-line reason and a non-zero exit, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RegistryInvalid as exc:
            for p in exc.problems:
                err.print(str(p), markup=False, highlight=False)
            fail(exc.message)
        except AnalogwatchError as exc:
            fail(exc.message)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(x) for x in first["loc"]) or "settings"
            fail(f"invalid setting {field}: {first['msg']}")
        except OperationalError as exc:
            fail(f"database unavailable: {str(exc.orig).strip().splitlines()[0]}")
        except SQLAlchemyError as exc:
            fail(f"database error: {str(exc).strip().splitlines()[0]}")
        except FileNotFoundError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    """The process's settings (built once)."""
    return get_settings()


def _print_json(data: Any) -> None:
    """Print data as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of: {value!r} is not a date (YYYY-MM-DD)", code=2)
