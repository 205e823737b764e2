"""Write docs/backtest.md: the backtest at the service default, the sweep, misses, counterfactual."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from service.backtest import service
from service.check import service as check
from service.registry.snapshot import Snapshot
from service.templating import markdown_templates

GOAL_RECALL = 0.85
GOAL_FALSE_ALARM = 0.01


_TEMPLATES = markdown_templates("service.backtest")


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def _m(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def _near(n: dict[str, Any] | None) -> str:
    return "none" if n is None else f"{n['name']} ({n['similarity']:.2f})"


_TEMPLATES.filters.update(f=_f, pct=_pct, m=_m, near=_near)


def _curve(
    rows: Sequence[dict[str, Any]], *, default_fingerprint: str, default_threshold: float
) -> dict[str, Any]:
    """The points of the sweep that "Reading the curve" names."""
    own = [r for r in rows if r["fingerprint"] == default_fingerprint]
    in_budget = [
        r
        for r in own
        if (r["false_alarm_rate"] or 0) <= GOAL_FALSE_ALARM
        and (r["false_alarm_rate_now"] or 0) <= GOAL_FALSE_ALARM
    ]
    at_default = next((r for r in own if abs(r["threshold"] - default_threshold) < 1e-9), None)
    low = [r for r in rows if r["threshold"] == service.THRESHOLDS[0]]
    return {
        "at_default": at_default,
        "same_recall": (
            [r["threshold"] for r in own if r["recall"] == at_default["recall"]]
            if at_default
            else []
        ),
        "top_in_budget": (
            max(in_budget, key=lambda r: (r["recall"], -r["threshold"])) if in_budget else None
        ),
        "best": service.choose(rows, max_false_alarm=GOAL_FALSE_ALARM),
        "top_low": max(low, key=lambda r: r["recall"] or 0),
    }


def write_analysis(
    snapshot: Snapshot,
    *,
    as_of: date,
    default_fingerprint: str,
    default_threshold: float,
    runs: Sequence[service.Run],
    figure: str | None = None,
    elsewhere_threshold: float = service.DEFAULT_ELSEWHERE_THRESHOLD,
) -> str:
    """The backtest document as Markdown (runs: one per fingerprint of the sweep)."""
    by_fp = {r.fingerprint: r for r in runs}
    run = by_fp[default_fingerprint]
    s = service.summarize(run, threshold=default_threshold, elsewhere_threshold=elsewhere_threshold)
    curve = service.elsewhere_rows(run, threshold=default_threshold)
    rows = service.sweep_rows(runs)
    fps = [r.fingerprint for r in runs]
    cell = {(r["fingerprint"], r["threshold"]): r for r in reversed(rows)}  # the first wins

    def structural(
        signal: str, min_atoms: int, min_share: float, min_similarity: float
    ) -> dict[str, Any]:
        """A containment signal's parameters, and the background drugs only it flags."""
        alone = service.flagged_only_by(
            run, signal, threshold=default_threshold, elsewhere_threshold=elsewhere_threshold
        )
        return {
            "min_atoms": min_atoms,
            "min_share": min_share,
            "min_similarity": min_similarity,
            "candidates": check.CONTAINS_CANDIDATES,
            "alone": alone,
        }

    context = {
        "digest": (snapshot.digest or "none")[:12],
        "as_of": as_of,
        "figure": figure,
        "fingerprint": default_fingerprint,
        "threshold": default_threshold,
        "elsewhere_threshold": elsewhere_threshold,
        "elsewhere_curve": curve,
        "elsewhere_codes": list(curve[0]["combined"]) if curve else [],
        "goal_recall": GOAL_RECALL,
        "goal_false_alarm": GOAL_FALSE_ALARM,
        "contains": structural(
            "contains_controlled",
            check.CONTAINS_MIN_ATOMS,
            check.CONTAINS_MIN_SHARE,
            check.CONTAINS_MIN_SIMILARITY,
        ),
        "scaffold": structural(
            "shares_scaffold",
            check.SCAFFOLD_MIN_ATOMS,
            check.SCAFFOLD_MIN_SHARE,
            check.SCAFFOLD_MIN_SIMILARITY,
        ),
        "n_background": run.n_background,
        "n_dates": len(run.dates),
        "n_trials": len(run.trials),
        "n_substances": len({tr.row.key for tr in run.trials}),
        "n_untested": sum(1 for x in snapshot.substances if x.nps and not x.appearances),
        "jurisdictions": s["jurisdictions"],
        "overall": s["overall"],
        "signals": service.SIGNALS,
        "misses": [m for j in s["jurisdictions"] for m in j["misses"]],
        "fingerprints": fps,
        "sweep": [(t, [cell[(fp, t)] for fp in fps]) for t in service.THRESHOLDS],
        "counterfactual": service.counterfactual(snapshot, as_of=as_of),
        "flagged_drugs": service.flagged_background(
            run, threshold=default_threshold, elsewhere_threshold=elsewhere_threshold
        ),
        "opioid_like": service.opioid_like(
            snapshot,
            as_of=as_of,
            fingerprint=default_fingerprint,
            bits=run.bits,
            threshold=default_threshold,
            elsewhere_threshold=elsewhere_threshold,
        ),
        "periods": service.period_rows(
            run, threshold=default_threshold, elsewhere_threshold=elsewhere_threshold
        ),
        **_curve(
            rows, default_fingerprint=default_fingerprint, default_threshold=default_threshold
        ),
    }
    return _TEMPLATES.get_template("backtest.md.j2").render(context)
