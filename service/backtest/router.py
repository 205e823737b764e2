"""HTTP route of the early-warning backtest: the summary, cached per registry version."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from service.backtest import service
from service.backtest.cache import BacktestCache, cache_of
from service.backtest.schemas import BacktestSummaryPublic
from service.check.index import IndexHolder
from service.config import Settings

router = APIRouter(prefix="/backtest", tags=["backtest"])

FingerprintLiteral = Literal["morgan2", "morgan3", "feature-morgan2", "atom-pair", "torsion"]


def get_cache(request: Request) -> BacktestCache:
    """The application's backtest cache (created on first use)."""
    return cache_of(request.app.state)


@router.get("/summary", response_model=BacktestSummaryPublic)
def get_backtest_summary(
    request: Request,
    fingerprint: Annotated[
        FingerprintLiteral | None,
        Query(description="fingerprint (default: the service's, Morgan of the configured radius)"),
    ] = None,
    threshold: Annotated[
        float | None,
        Query(ge=0.0, le=1.0, description="similarity threshold (default: the service's)"),
    ] = None,
    jurisdiction: Annotated[
        list[str] | None, Query(description="jurisdiction code (repeatable; default all)")
    ] = None,
) -> Any:
    """Say how early the watchlist would have warned of substances before they were scheduled."""
    settings: Settings = request.app.state.settings
    holder: IndexHolder = request.app.state.index_holder
    index = holder.get()
    fp = fingerprint or service.fingerprint_name("morgan", settings.fingerprint_radius)
    codes = tuple(sorted({j.upper() for j in jurisdiction})) if jurisdiction else None
    return get_cache(request).summary(
        index.snapshot,
        version=index.version,
        fingerprint=fp,
        bits=settings.fingerprint_bits,
        threshold=settings.similarity_threshold if threshold is None else threshold,
        jurisdictions=codes,
        as_of=date.today(),
    )
