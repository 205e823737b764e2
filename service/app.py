"""The FastAPI application; its lifespan asks the composition root (`service.runtime`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import __version__, runtime
from service.backtest.router import router as backtest_router
from service.check.router import router as check_router
from service.config import Settings, get_settings
from service.errors import install_handlers
from service.ingest.router import router as ingest_router
from service.lag.router import router as lag_router
from service.limits import BodySizeLimit, new_limiter
from service.registry.loader import latest_load
from service.registry.router import router as registry_router
from service.registry.service import table_counts
from service.reports.router import router as reports_router
from service.web.router import install as install_pages
from service.webhooks.router import router as webhooks_router

log = logging.getLogger("analogwatch")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Create the application; the lifespan prepares the database unless an engine is given."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the composition root builds engine, index (with its search backend) and scheduler
        if engine is None:
            rt = runtime.open_writable(settings)
        else:
            rt = runtime.Runtime(settings=settings, engine=engine, read_only=False)
        app.state.runtime = rt
        app.state.engine = rt.engine
        app.state.index_holder = rt.index_holder
        try:
            rt.index_holder.rebuild()
            app.state.scheduler = rt.start_scheduler() if settings.scheduler else None
            yield
        finally:
            if engine is None:
                rt.close()
            elif app.state.scheduler is not None:
                app.state.scheduler.shutdown(wait=False)

    app = FastAPI(
        title="analogwatch",
        version=__version__,
        summary="Controlled-substance analog watchlist: is it listed, how long did listing take, what slips through",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
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
    app.include_router(webhooks_router)
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


# Short, stable operation ids: the names generated clients give their functions. A route
# declared with its own `operation_id` keeps it; any other is named by its function.
OPERATION_IDS = {
    "post_check": "check",
    "post_check_batch": "check_batch",
    "get_check_depiction": "check_depiction",
    "list_substances": "list_substances",
    "get_substance": "get_substance",
    "get_substance_depiction": "substance_depiction",
    "get_registry_stats": "registry_stats",
    "get_registry_export": "registry_export",
    "get_lag_rows": "lag_rows",
    "get_lag_summary": "lag_summary",
    "get_lag_curve": "lag_curve",
    "get_lag_plot": "lag_plot",
    "get_backtest_summary": "backtest_summary",
    "post_appearance": "create_appearance",
    "get_appearances": "list_appearances",
    "post_import": "import_appearances",
    "get_reports": "list_reports",
    "get_latest_report": "latest_report",
    "get_report": "get_report",
    "post_run_report": "run_report",
    "health": "health",
}


def _operation_id(route: APIRoute) -> str:
    return OPERATION_IDS.get(route.name, route.name)


def create_served_app() -> FastAPI:
    """The application `analogwatch serve` runs in each worker: the periodic jobs run unless
    ANALOGWATCH_SCHEDULER says otherwise (a lease in the database keeps workers to one run)."""
    settings = get_settings()
    if "scheduler" not in settings.model_fields_set:
        settings = settings.model_copy(update={"scheduler": True})
    return create_app(settings)
