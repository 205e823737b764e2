"""FastAPI dependencies shared by the routers.

Trivial dependencies are `async def`: a sync one costs a thread-pool round trip per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from service.config import Settings
from service.errors import DatabaseUnavailable


async def get_engine(request: Request) -> Engine:
    """The engine built at start-up."""
    engine: Engine = request.app.state.engine
    return engine


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """A session per request: committed once at the end, rolled back on error."""
    try:
        with Session(engine) as session:
            try:
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise
    except OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.orig}") from None


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


# ids are 32-bit integers in PostgreSQL: a larger number is a 404-free 422, never a database error
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2,147,483,647)")]
# an offset past every row is an empty page; past 64 bits it would be a database error
MAX_OFFSET = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
