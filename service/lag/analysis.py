"""The scheduling-lag analysis document, written from a registry snapshot (rerunnable).

`analogwatch lag analysis --out docs/lag-analysis.md` loads the shipped registry into a
temporary SQLite database and calls :func:`write_analysis`; every figure in the document
comes from the registry through :mod:`service.lag.service`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date
from typing import Any

from service.lag import service
from service.lag.service import DAYS_PER_MONTH, LagRow
from service.registry.snapshot import Snapshot
from service.templating import markdown_templates

CN_CLASS_DAY = date(2019, 5, 1)
PUBLISHED_MONTHS = (8.0, 12.0)  # "eight months to a year" to list one new fentanyl analog in China
LONG_LAG_YEARS = 10  # a lag longer than this is more likely a gap in the registry than in the law


_TEMPLATES = markdown_templates("service.lag")


def _m(days: float | None) -> str:
    """Days as months with one decimal, '—' for none."""
    return "—" if days is None else f"{days / DAYS_PER_MONTH:.1f}"


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


_TEMPLATES.filters.update(m=_m, fmt=_fmt)


def _median_months(rows: Sequence[LagRow]) -> float | None:
    vals = [r.lag_days for r in rows]
    return statistics.median(vals) / DAYS_PER_MONTH if vals else None


def _controlled(rows: Sequence[LagRow]) -> dict[str, Any]:
    """How many of `rows` were controlled, their median lag in months, how many were not."""
    ctrl = [r for r in rows if r.event]
    return {"n": len(ctrl), "median": _median_months(ctrl), "censored": len(rows) - len(ctrl)}


def _china(by_j: dict[str, list[LagRow]]) -> dict[str, Any] | None:
    """China's one-by-one listings before its class law, beside the same compounds in US and UN."""
    cn = [r for r in by_j.get("CN", []) if r.outcome == "individual" and r.end_date < CN_CLASS_DAY]
    if not cn:
        return None
    cn_f = [r for r in cn if r.family == "fentanyl"]
    lo, hi = PUBLISHED_MONTHS
    months = [r.lag_days / DAYS_PER_MONTH for r in cn_f]
    med = _median_months(cn_f)
    same = {r.key for r in cn_f}
    us_same = [r for r in by_j.get("US", []) if r.key in same]
    verdict = None
    if med is not None:
        verdict = (
            "agrees with"
            if lo <= med <= hi
            else ("is shorter than" if med < lo else "is longer than")
        )
    return {
        "rows": cn,
        "n_fentanyl": len(cn_f),
        "median": med,
        "lag_min": min(months, default=None),
        "lag_max": max(months, default=None),
        "n_within": sum(1 for x in months if lo <= x <= hi),
        "n_shorter": sum(1 for x in months if x < lo),
        "n_longer": sum(1 for x in months if x > hi),
        "verdict": verdict,
        "us": _controlled(us_same),
        "us_temporary": _controlled([r for r in us_same if r.event and r.end_kind == "temporary"]),
        "un": _controlled([r for r in by_j.get("UN", []) if r.key in same]),
    }


def _class_law_section(code: str, day: date, rows: list[LagRow]) -> dict[str, Any] | None:
    """Lags before and after a jurisdiction's first class law; None when it has no rows."""
    groups = service.grouped(rows, "class_law")
    if not groups:
        return None
    logrank = None
    if "before" in groups and "after" in groups:
        lr = service.logrank(rows, by="class_law", a="before", b="after")
        p = lr["p_value"]
        logrank = {**lr, "p": "—" if p is None else f"{p:.3g}"}
    fgroups = service.grouped([r for r in rows if r.family == "fentanyl"], "class_law")
    return {
        "code": code,
        "day": day,
        "stats": [{"group": k, **service.group_stats(v)} for k, v in groups.items()],
        "logrank": logrank,
        "fentanyl_stats": [{"group": k, **service.group_stats(v)} for k, v in fgroups.items()],
        "fentanyl_after": "after" in fgroups,
        "by_class": [r for r in rows if r.outcome in ("class", "pre_emptive") and r.class_key],
    }


def write_analysis(snapshot: Snapshot, *, as_of: date, figure: str | None = None) -> str:
    """The analysis as Markdown: method, per-jurisdiction figures, China vs US vs UN, class laws."""
    g = service.lag_rows(snapshot, as_of=as_of, basis="global")
    loc = service.lag_rows(snapshot, as_of=as_of, basis="local")
    sg = service.summary(g)
    sl = service.summary(loc, group_by=["jurisdiction"])
    law = service.class_law_dates(snapshot, as_of)
    by_j = service.grouped(g.rows, "jurisdiction")
    cens = [r for r in g.rows if r.outcome == "censored"]
    long_ago = LONG_LAG_YEARS * 365.25
    long_lags = [r for r in g.rows if r.event and r.lag_days > long_ago]
    long_lags += [r for r in cens if r.lag_days > long_ago]
    sections = [
        _class_law_section(code, day, by_j.get(code, [])) for code, day in sorted(law.items())
    ]
    context = {
        "digest": (snapshot.digest or "none")[:12],
        "as_of": as_of,
        "figure": figure,
        "days_per_month": DAYS_PER_MONTH,
        "n_with_appearance": len({r.key for r in g.rows}),
        "n_rows": len(g.rows),
        "jurisdictions": list(by_j),
        "without_appearance": g.without_appearance,
        "without_local_appearance": loc.without_local_appearance,
        "n_local_rows": len(loc.rows),
        "class_laws": sorted(law.items()),
        "global_by_jurisdiction": sg["groups"]["jurisdiction"],
        "local_by_jurisdiction": sl["groups"]["jurisdiction"],
        "global_by_family": sg["groups"]["family"],
        "cn": _china(by_j),
        "class_law_sections": [s for s in sections if s is not None],
        "pre_emptive": [r for r in g.rows if r.outcome == "pre_emptive"],
        "censored": [
            (code, sorted(rows, key=lambda r: r.start_earliest))
            for code, rows in service.grouped(cens, "jurisdiction").items()
        ],
        "long_lags": sorted({f"{r.name} ({r.jurisdiction})" for r in long_lags}),
        "long_lag_years": LONG_LAG_YEARS,
    }
    return _TEMPLATES.get_template("lag-analysis.md.j2").render(context)
