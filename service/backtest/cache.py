"""The backtest summaries of a running service, computed once per registry version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from service.backtest import service
from service.errors import require_jurisdictions
from service.registry.snapshot import Snapshot


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
            if jurisdictions:  # an unknown code is refused before any work
                require_jurisdictions(jurisdictions, snapshot.jurisdictions)
            # one run over every jurisdiction per fingerprint: a trial or a background check
            # in one jurisdiction does not depend on which others were asked for, so a subset's
            # summary is read from the whole run
            run_key = (fingerprint, bits, as_of)
            run = self._runs.get(run_key)
            if run is None:
                run = service.run(snapshot, as_of=as_of, fingerprint=fingerprint, bits=bits)
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


def cache_of(state: Any) -> BacktestCache:
    """The application's backtest cache, kept on its state (created on first use)."""
    cache: BacktestCache | None = getattr(state, "backtest_cache", None)
    if cache is None:
        cache = state.backtest_cache = BacktestCache()
    return cache
