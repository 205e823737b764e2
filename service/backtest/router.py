"""HTTP route of the early-warning backtest: the summary, cached per registry version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from service.backtest import service
from service.backtest.schemas import BacktestSummaryPublic
from service.check.index import IndexHolder
from service.config import Settings
from service.registry.snapshot import Snapshot

router = APIRouter(prefix="/backtest", tags=["backtest"])

FingerprintLiteral = Literal["morgan2", "morgan3", "feature-morgan2", "atom-pair", "torsion"]


class BacktestCache:
    """Runs and summaries in memory, keyed by registry version; a new version drops the old."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._version: str | None = None
        self._runs: OrderedDict[tuple[Any, ...], service.Run] = OrderedDict()
        self._summaries: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # runs computed (for tests and logs)

    def summary(
        self,
        snapshot: Snapshot,
        *,
        version: str,
        fingerprint: str,
        bits: int,
        threshold: float,
        jurisdictions: tuple[str, ...] | None,
        as_of: date,
    ) -> dict[str, Any]:
        """The summary for these settings, computed once per registry version."""
        with self._lock:  # one computation at a time; the others wait and reuse it
            if version != self._version:
                self._runs.clear()
                self._summaries.clear()
                self._version = version
            key = (fingerprint, bits, threshold, jurisdictions, as_of)
            found = self._summaries.get(key)
            if found is not None:
                return found
            run_key = (fingerprint, bits, jurisdictions, as_of)
            run = self._runs.get(run_key)
            if run is None:
                run = service.run(
                    snapshot,
                    as_of=as_of,
                    fingerprint=fingerprint,
                    bits=bits,
                    jurisdictions=jurisdictions,
                )
                self.computed += 1
                self._runs[run_key] = run
                while len(self._runs) > self.size:
                    self._runs.popitem(last=False)
            data = service.summarize(run, threshold=threshold, jurisdictions=jurisdictions)
            data["counterfactual"] = service.counterfactual(
                snapshot, as_of=as_of, jurisdictions=jurisdictions
            )
            data["registry_version"] = version
            self._summaries[key] = data
            while len(self._summaries) > self.size:
                self._summaries.popitem(last=False)
            return data


def get_cache(request: Request) -> BacktestCache:
    """The application's backtest cache (created on first use)."""
    state = request.app.state
    cache: BacktestCache | None = getattr(state, "backtest_cache", None)
    if cache is None:
        cache = state.backtest_cache = BacktestCache()
    return cache


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
