"""The FastAPI application and its lifespan: engine, migrations, registry load."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import __version__, migrate
from service.config import Settings, get_settings
from service.db import make_engine
from service.errors import AnalogwatchError, install_handlers
from service.limits import BodySizeLimit, new_limiter
from service.paths import schedules_dir
from service.registry.loader import latest_load, load_registry
from service.check.index import IndexHolder
from service.check.router import router as check_router
from service.registry.router import router as registry_router
from service.lag.router import router as lag_router
from service.backtest.router import router as backtest_router
from service.ingest.router import router as ingest_router
from service.reports.router import router as reports_router
from service.registry.service import table_counts
from service.web.router import install as install_pages

log = logging.getLogger("analogwatch")


def prepare_database(engine: Engine, settings: Settings) -> None:
    """Migrate an embedded SQLite database to head; require head on PostgreSQL."""
    url = settings.database_url
    if settings.is_sqlite:
        migrate.upgrade(url)
        return
    current, head = migrate.current_revision(engine), migrate.head_revision(url)
    if current != head:
        raise AnalogwatchError(
            f"database is at revision {current}, the code needs {head}: run `analogwatch db upgrade`"
        )


def startup(settings: Settings) -> Engine:
    """Build the engine, migrate, and load the registry when empty or changed."""
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    if settings.auto_load:
        result = load_registry(
            engine,
            settings.schedules_dir or schedules_dir(),
            fp_radius=settings.fingerprint_radius,
            fp_bits=settings.fingerprint_bits,
        )
        if result.changed:
            log.info("registry loaded: %s", result.counts)
    return engine


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Create the application; the lifespan prepares the database unless an engine is given."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = engine is None
        app.state.engine = engine if engine is not None else startup(settings)
        app.state.index_holder = IndexHolder(
            app.state.engine,
            kind="morgan",
            radius=settings.fingerprint_radius,
            bits=settings.fingerprint_bits,
            ttl=settings.index_refresh_seconds,
            search_backend=settings.search_backend,
        )
        app.state.index_holder.rebuild()
        scheduler = None
        if settings.scheduler:
            from service.scheduler import start_scheduler

            scheduler = start_scheduler(app.state.engine, settings)
        app.state.scheduler = scheduler
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if own:
            app.state.engine.dispose()

    app = FastAPI(
        title="analogwatch",
        version=__version__,
        summary="Controlled-substance analog watchlist: is it listed, how long did listing take, what slips through",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_handlers(app)
    app.state.limiter = new_limiter()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )
    app.include_router(check_router)
    app.include_router(registry_router)
    app.include_router(lag_router)
    app.include_router(backtest_router)
    app.include_router(ingest_router)
    app.include_router(reports_router)
    install_pages(app)

    @app.get("/health", tags=["health"])
    def health() -> JSONResponse:
        """Say whether the database is reachable and the registry loaded, with row counts."""
        body: dict[str, Any] = {"status": "ok", "version": __version__}
        try:
            with Session(app.state.engine) as session:
                session.execute(text("SELECT 1"))
                body["database"] = "reachable"
                last = latest_load(session)
                body["registry"] = {
                    "loaded": last is not None,
                    "loaded_at": last.loaded_at.isoformat() if last else None,
                    "digest": last.digest if last else None,
                }
                body["counts"] = table_counts(session)
        except Exception as exc:  # any database failure is reported, never raised
            body.update(status="unavailable", database=f"unreachable: {type(exc).__name__}")
            return JSONResponse(status_code=503, content=body)
        if not body["registry"]["loaded"]:
            body["status"] = "degraded"
        return JSONResponse(content=body)

    return app
