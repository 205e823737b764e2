"""Scheduling lag rows and their statistics: pure functions over a registry Snapshot.

One row per (substance, jurisdiction, basis):

* **start** — the first appearance. Basis ``global``: the earliest report anywhere. Basis
  ``local``: the earliest report whose place is the jurisdiction itself or, for a
  supranational jurisdiction (EU), one of its member codes (``Snapshot.members``). For the
  UN conventions local is global. A substance with no appearance (or, on the local basis,
  none in the jurisdiction) gets no row; :func:`lag_rows` counts what it skipped.
  The start is the interval [earliest first day, earliest last day] over the reports that
  count: a ``2013`` report beside a ``2013-05-30`` one gives 2013-01-01..2013-05-30;
  ``start_date`` and ``start_precision`` are those of the report with the earliest first
  day (on a tie the more precise one).
* **end** — the first control in force in the jurisdiction, individual (its own acts) or
  by class (a class definition of the jurisdiction whose structural rules make the
  substance a member, :meth:`CompiledClass.match`), whichever came first; on the same day
  the individual act wins. The legal-status rules are those of
  :mod:`service.registry.snapshot` (`act_in_force`, `first_control`): a temporary order
  lapses on its end date, a removal ends earlier acts. Only acts effective on or before
  the as-of date count.

Outcomes:

* ``pre_emptive`` — a control (individual or class) is in force on the earliest possible
  day of the first appearance: the law was there first. The end date is the first
  control of that act's subject (``first_control``); the lag is zero or negative.
* ``individual`` / ``class`` — no control in force on the earliest possible day; the end
  is the first later day on which one comes into force (a control that had lapsed or been
  removed before the appearance does not count: the compound appeared uncontrolled).
* ``censored`` — no control by the as-of date; the end is the as-of date.
* ``interval_censored`` — the first control found is a ``listed_by`` act: a consolidated
  list shows the substance controlled by that day without saying since when. The control
  happened on or before it, so the lag lies between zero and ``end - midpoint``; the day
  of the list is never taken as the day of control. A ``listed_by`` act already in force on
  the earliest day of the appearance still makes the row ``pre_emptive`` (the law was
  there first), with ``end_kind`` ``listed_by`` saying that the day is an upper bound.

Dates with month or year precision are intervals ``[earliest, latest]``; a year is never
read as 1 January. With ``end`` the control (or as-of) day and ``midpoint`` the middle day
of the start interval (rounded down, as :attr:`PartialDate.midpoint`):

* ``lag_days_min = end - latest``   (the latest possible start gives the shortest lag)
* ``lag_days_max = end - earliest``
* ``lag_days     = end - midpoint`` (the point value; the midpoint of the interval)

A control that falls *inside* the appearance interval (after its earliest day, on or
before its latest day) is not called pre-emptive — the registry cannot say which came
first. It keeps its outcome (``individual`` or ``class``) and ``straddles_control`` is
true; ``lag_days_min`` is then zero or negative, and the point value is not allowed below
zero (a lag that is not pre-emptive is never negative). A censored row's interval is cut
at the as-of date (the appearance cannot be later than it), and its point value is not
below zero either.

For survival statistics (Kaplan-Meier, log-rank), the time is ``duration_days``: the
point value for controlled and censored rows, zero for pre-emptive rows (the event
happened at the start); ``event`` is false for censored and interval-censored rows, and
``censoring`` says which: ``none``, ``right`` (not controlled by the as-of date) or
``interval`` (controlled at some time in ``[0, duration_days]``). Observed medians and
quartiles use only rows whose control day is known; Kaplan-Meier with interval-censored
rows is the Turnbull estimate (lifelines' ``fit_interval_censoring``), which is Kaplan-Meier
itself when no row is interval-censored.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from service.dates import PartialDate
from service.errors import UnprocessableInput, require_jurisdictions
from service.registry.snapshot import (
    Act,
    AppearanceFact,
    ClassFact,
    Snapshot,
    SubstanceFact,
    UnencodedFact,
    act_in_force,
    first_control,
)

DAYS_PER_MONTH = 365.25 / 12


class Basis(StrEnum):
    """Which first appearance starts the clock."""

    global_ = "global"
    local = "local"


class Outcome(StrEnum):
    """How a lag row ends."""

    individual = "individual"
    class_ = "class"
    censored = "censored"
    pre_emptive = "pre_emptive"
    interval_censored = "interval_censored"


LISTED_BY = "listed_by"


class GroupBy(StrEnum):
    """Groupings of the statistics."""

    jurisdiction = "jurisdiction"
    family = "family"
    year = "year"
    class_law = "class_law"


@dataclass(frozen=True, slots=True)
class LagRow:
    """One lag: a substance, a jurisdiction, a basis, its start, end and outcome."""

    name: str
    key: str
    inchikey: str
    family: str
    jurisdiction: str
    basis: str
    start_date: str  # as the source states it: 2016, 2016-11 or 2016-11-14
    start_precision: str
    start_earliest: date
    start_latest: date
    start_place: str
    start_reporter: str
    start_source: str
    end_date: date
    end_citation: str
    end_source: str
    end_kind: str  # temporary / extension / permanent; empty when censored
    class_key: str | None
    lag_days: int
    lag_days_min: int
    lag_days_max: int
    outcome: str
    straddles_control: bool
    duration_days: int
    event: bool
    class_law: str  # before / after the jurisdiction's first class law, or none
    censoring: str = "none"  # none / right / interval (see the module docstring)
    # right-censored, but the structure has the core of a generic law in force there that the
    # registry does not encode (schedules/unencoded/): it may be controlled already
    unencoded_law: str | None = None

    @property
    def control_day_known(self) -> bool:
        """True when the end is the day control began (not a consolidated list's date)."""
        return self.event and self.end_kind != LISTED_BY

    @property
    def year(self) -> int:
        """Year of the first appearance (exact at every precision)."""
        return self.start_earliest.year

    def group(self, by: GroupBy | str) -> str:
        """The value of this row in a grouping."""
        by = GroupBy(by)
        if by is GroupBy.year:
            return str(self.year)
        value: str = getattr(self, by.value)
        return value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        d = asdict(self)
        for k in ("start_earliest", "start_latest", "end_date"):
            d[k] = d[k].isoformat()
        return d


ROW_FIELDS = [
    "name",
    "inchikey",
    "jurisdiction",
    "basis",
    "start_date",
    "end_date",
    "lag_days",
    "lag_days_min",
    "lag_days_max",
    "outcome",
    "key",
    "family",
    "start_precision",
    "start_earliest",
    "start_latest",
    "start_place",
    "start_reporter",
    "start_source",
    "end_citation",
    "end_source",
    "end_kind",
    "class_key",
    "straddles_control",
    "duration_days",
    "event",
    "class_law",
    "censoring",
    "unencoded_law",
]
"""Column order of the CSV and the table: the contract keys first."""


@dataclass(slots=True)
class LagTable:
    """Lag rows with what was left out and why."""

    as_of: date
    basis: str
    rows: list[LagRow]
    without_appearance: list[str]  # substance keys (NPS or reported) with no appearance at all
    without_local_appearance: int  # (substance, jurisdiction) pairs skipped on the local basis
    appeared_after_as_of: int  # substances whose first appearance is after the as-of date


# --------------------------------------------------------------------------- class coverage

_COVERAGE: dict[int, tuple[Snapshot, dict[int, tuple[ClassFact, ...]]]] = {}


def class_coverage(snapshot: Snapshot) -> dict[int, tuple[ClassFact, ...]]:
    """Classes whose structural rules make each substance a member, by substance id (cached)."""
    cached = _COVERAGE.get(id(snapshot))
    if cached is not None and cached[0] is snapshot:
        return cached[1]
    found: dict[int, tuple[ClassFact, ...]] = {}
    for s in snapshot.substances:
        if not s.appearances:
            continue  # no lag row without an appearance: skip the matching
        hits = tuple(c for c in snapshot.classes if c.compiled.match(s.mol).member)
        if hits:
            found[s.id] = hits
    if len(_COVERAGE) >= 4:
        _COVERAGE.clear()
    _COVERAGE[id(snapshot)] = (snapshot, found)
    return found


# --------------------------------------------------------------------------- the lag rule


def basis_appearances(
    substance: SubstanceFact,
    *,
    jurisdiction: str,
    basis: Basis | str,
    members: frozenset[str] = frozenset(),
) -> list[AppearanceFact]:
    """The reports that count on a basis: all of them (global, and local for the UN) or the local ones."""
    if Basis(basis) is Basis.global_ or jurisdiction == "UN":
        return list(substance.appearances)
    places = {jurisdiction} | set(members)
    return [a for a in substance.appearances if a.place in places]


def first_appearance(
    substance: SubstanceFact,
    *,
    jurisdiction: str,
    basis: Basis | str,
    members: frozenset[str] = frozenset(),
) -> AppearanceFact | None:
    """The report with the earliest possible day on a basis (on a tie the more precise), or None."""
    apps = basis_appearances(substance, jurisdiction=jurisdiction, basis=basis, members=members)
    order = {"day": 0, "month": 1, "year": 2}
    return min(apps, key=lambda a: (a.earliest, order.get(a.precision, 3)), default=None)


def start_interval(apps: Sequence[AppearanceFact]) -> tuple[date, date]:
    """First and last possible day of the first appearance given every report that counts.

    The first appearance is no earlier than the earliest first day and no later than the
    earliest last day: a `2013` report beside a `2013-05-30` one gives 2013-01-01..2013-05-30.
    """
    spans = [PartialDate.of(a.earliest, a.precision) for a in apps]
    return min(p.earliest for p in spans), min(p.latest for p in spans)


def _until(acts: Sequence[Act], as_of: date) -> tuple[Act, ...]:
    return tuple(a for a in acts if a.effective_date <= as_of)


def _next_in_force(acts: tuple[Act, ...], after: date) -> Act | None:
    """The first act that comes into force on a day after `after` and is in force that day."""
    for day in sorted(
        {a.effective_date for a in acts if a.kind != "removal" and a.effective_date > after}
    ):
        act = act_in_force(acts, day)
        if act is not None:
            return act
    return None


def lag_row(
    substance: SubstanceFact,
    *,
    jurisdiction: str,
    basis: Basis | str,
    as_of: date,
    classes: Sequence[ClassFact] = (),
    members: frozenset[str] = frozenset(),
    class_law_date: date | None = None,
    unencoded: Sequence[UnencodedFact] = (),
) -> LagRow | None:
    """The lag of one substance in one jurisdiction; None without a (local) appearance.

    `classes` are the class definitions of the jurisdiction that cover the substance;
    `class_law_date` is the day the jurisdiction's first class definition took effect;
    `unencoded` are the generic laws known but not encoded whose core the substance has (a
    censored row names the first of them in force there by the as-of date).
    """
    basis = Basis(basis)
    apps = basis_appearances(substance, jurisdiction=jurisdiction, basis=basis, members=members)
    start = first_appearance(substance, jurisdiction=jurisdiction, basis=basis, members=members)
    if start is None or start.earliest > as_of:
        return None
    when = PartialDate.of(start.earliest, start.precision)
    earliest, latest = start_interval([a for a in apps if a.earliest <= as_of])
    mid = date.fromordinal((earliest.toordinal() + latest.toordinal()) // 2)
    sources: list[tuple[Outcome, str | None, tuple[Act, ...]]] = [
        (Outcome.individual, None, _until(substance.acts.get(jurisdiction, ()), as_of))
    ]
    sources += [
        (Outcome.class_, c.key, _until(c.acts, as_of))
        for c in classes
        if c.jurisdiction == jurisdiction
    ]

    chosen: tuple[Outcome, str | None, Act] | None = None
    pre = [
        (first, kind, key)
        for kind, key, acts in sources
        if act_in_force(acts, earliest) is not None and (first := first_control(acts)) is not None
    ]
    if pre:
        first, kind, key = min(
            pre, key=lambda p: (p[0].effective_date, p[1] is not Outcome.individual)
        )
        chosen = (Outcome.pre_emptive, key, first)
    else:
        later = [
            (act, kind, key)
            for kind, key, acts in sources
            if (act := _next_in_force(acts, earliest)) is not None
        ]
        if later:
            act, kind, key = min(
                later, key=lambda p: (p[0].effective_date, p[1] is not Outcome.individual)
            )
            chosen = (kind, key, act)

    if chosen is None:
        outcome, class_key, end, citation, source, act_kind = (
            Outcome.censored,
            None,
            as_of,
            "",
            "",
            "",
        )
        cut = min(latest, as_of)
        lo, hi = (end - cut).days, (end - earliest).days
        point = max((end - mid).days, 0)
    else:
        outcome, class_key, act = chosen
        end, citation, source, act_kind = act.effective_date, act.citation, act.source, act.kind
        lo, hi, point = (end - latest).days, (end - earliest).days, (end - mid).days
        if outcome is not Outcome.pre_emptive:
            point = max(point, 0)
            if act_kind == LISTED_BY:
                # controlled on or before the list's day: the lag is at most this
                outcome, lo = Outcome.interval_censored, min(lo, 0)
    duration = 0 if outcome is Outcome.pre_emptive else point
    censoring = {Outcome.censored: "right", Outcome.interval_censored: "interval"}.get(
        outcome, "none"
    )
    period = "none" if class_law_date is None else ("before" if mid < class_law_date else "after")
    return LagRow(
        name=substance.name,
        key=substance.key,
        inchikey=substance.inchikey,
        family=substance.family,
        jurisdiction=jurisdiction,
        basis=basis.value,
        start_date=str(when),
        start_precision=str(when.precision),
        start_earliest=earliest,
        start_latest=latest,
        start_place=start.place,
        start_reporter=start.reporter,
        start_source=start.source,
        end_date=end,
        end_citation=citation,
        end_source=source,
        end_kind=act_kind,
        class_key=class_key,
        lag_days=point,
        lag_days_min=lo,
        lag_days_max=hi,
        outcome=outcome.value,
        straddles_control=outcome in (Outcome.individual, Outcome.class_) and end <= latest,
        duration_days=duration,
        event=outcome not in (Outcome.censored, Outcome.interval_censored),
        class_law=period,
        censoring=censoring,
        unencoded_law=next(
            (
                u.key
                for u in unencoded
                if u.jurisdiction == jurisdiction and u.known_in_force_by <= as_of
            ),
            None,
        )
        if outcome is Outcome.censored
        else None,
    )


def class_law_dates(snapshot: Snapshot, as_of: date) -> dict[str, date]:
    """The day each jurisdiction's first class definition took effect (acts up to as-of)."""
    out: dict[str, date] = {}
    for c in snapshot.classes:
        first = first_control(_until(c.acts, as_of))
        if first is not None and (
            c.jurisdiction not in out or first.effective_date < out[c.jurisdiction]
        ):
            out[c.jurisdiction] = first.effective_date
    return out


def lag_rows(
    snapshot: Snapshot,
    *,
    as_of: date,
    basis: Basis | str = Basis.global_,
    jurisdictions: Sequence[str] | None = None,
    family: str | None = None,
    outcome: str | None = None,
) -> LagTable:
    """Lag rows of every substance with an appearance, per jurisdiction, filtered."""
    basis = Basis(basis)
    codes = (
        sorted(snapshot.jurisdictions) if not jurisdictions else [j.upper() for j in jurisdictions]
    )
    require_jurisdictions(codes, snapshot.jurisdictions)
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise UnprocessableInput(
            ("query", "outcome"),
            f"unknown outcome {outcome!r}; one of {', '.join(o.value for o in Outcome)}",
        )
    coverage = class_coverage(snapshot)
    law = class_law_dates(snapshot, as_of)
    rows: list[LagRow] = []
    without: list[str] = []
    no_local = 0
    later = 0
    for s in snapshot.substances:
        if family is not None and s.family != family:
            continue
        if not s.appearances:
            if s.nps or s.origin != "registry":
                without.append(s.key)
            continue
        if s.appearances[0].earliest > as_of:
            later += 1
            continue
        concerned = [u for u in snapshot.unencoded if u.concerns(s.mol)]
        for code in codes:
            row = lag_row(
                s,
                jurisdiction=code,
                basis=basis,
                as_of=as_of,
                classes=coverage.get(s.id, ()),
                members=snapshot.members.get(code, frozenset()),
                class_law_date=law.get(code),
                unencoded=concerned,
            )
            if row is None:
                no_local += 1
                continue
            if outcome is None or row.outcome == outcome:
                rows.append(row)
    rows.sort(key=lambda r: (r.jurisdiction, r.start_earliest, r.name))
    return LagTable(
        as_of=as_of,
        basis=basis.value,
        rows=rows,
        without_appearance=without,
        without_local_appearance=no_local,
        appeared_after_as_of=later,
    )


# --------------------------------------------------------------------------- statistics


def _quantiles(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        v = float(values[0])
        return v, v, v
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def _finite(x: Any, digits: int | None = None) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return round(v, digits) if digits is not None else v


Fit = tuple[tuple[int, bool, str], ...]
"""What a Kaplan-Meier fit of lag rows depends on: each row's (duration, event, censoring), in
the rows' order. Equal fits give equal curves, so the fitted figures are remembered by it."""


def _fit(rows: Sequence[LagRow]) -> Fit:
    return tuple((r.duration_days, r.event, r.censoring) for r in rows)


def _turnbull(fit: Fit) -> bool:
    """Whether the fit is Turnbull's: some rows are interval-censored."""
    return any(c == "interval" for _, _, c in fit)


def _km(fit: Fit) -> Any:
    """Kaplan-Meier; the Turnbull estimate when some rows are interval-censored."""
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=0.05)
    if not _turnbull(fit):
        kmf.fit([d for d, _, _ in fit], event_observed=[e for _, e, _ in fit], label="KM")
        return kmf
    lower = [0.0 if c == "interval" else float(d) for d, _, c in fit]
    upper = [float(d) if c != "right" else math.inf for d, _, c in fit]
    kmf.fit_interval_censoring(lower, upper, label="KM")
    return kmf


def _survival(kmf: Any) -> Any:
    """The survival curve; of the Turnbull estimate, its upper bound (control as late as possible)."""
    sf = kmf.survival_function_
    curve = sf["KM"] if "KM" in sf.columns else sf.iloc[:, 0]
    return curve[curve.index != math.inf]


def _km_time(kmf: Any, p: float) -> float | None:
    """Smallest time at which the share still uncontrolled is at or below p (None: not reached)."""
    sf = _survival(kmf)
    below = sf[sf <= p + 1e-12]
    return float(below.index[0]) if len(below) else None


# A fit takes 2-25 ms (the Turnbull estimate iterates); a summary makes about thirty, a request
# for the lag statistics or curves repeats the same ones: the figures of a fit are remembered
# (bounded; plain numbers, never the fitter itself).
_FITS_REMEMBERED = 1024


@lru_cache(maxsize=_FITS_REMEMBERED)
def _km_figures(fit: Fit) -> tuple[float | None, ...]:
    """(q1, median, q3, median band lower, upper) of the Kaplan-Meier fit, in days."""
    kmf = _km(fit)
    quartiles = (_km_time(kmf, 0.75), _km_time(kmf, 0.5), _km_time(kmf, 0.25))
    if _turnbull(fit):
        return (*quartiles, None, None)  # the Turnbull estimate comes without a confidence band
    ci = kmf.confidence_interval_survival_function_
    lower, upper = ci.columns[0], ci.columns[1]
    # the median's 95% band: where the lower and upper survival bands cross one half
    return (*quartiles, _cross(ci[lower], 0.5), _cross(ci[upper], 0.5))


def group_stats(rows: Sequence[LagRow]) -> dict[str, Any]:
    """n, censored, pre-emptive, median and quartiles of the observed lags and of Kaplan-Meier."""
    observed = sorted(r.lag_days for r in rows if r.control_day_known)
    q1, med, q3 = _quantiles(observed)
    out: dict[str, Any] = {
        "n": len(rows),
        "n_controlled": sum(r.event for r in rows),
        "n_censored": sum(not r.event for r in rows),
        "n_interval_censored": sum(r.censoring == "interval" for r in rows),
        "n_censored_unencoded": sum(r.unencoded_law is not None for r in rows),
        "n_control_day_unknown": sum(r.end_kind == LISTED_BY for r in rows),
        "n_pre_emptive": sum(r.outcome == Outcome.pre_emptive for r in rows),
        "n_individual": sum(r.outcome == Outcome.individual for r in rows),
        "n_class": sum(r.outcome == Outcome.class_ for r in rows),
        "observed_median_days": med,
        "observed_q1_days": q1,
        "observed_q3_days": q3,
        "km_median_days": None,
        "km_median_ci_days": [None, None],
        "km_q1_days": None,
        "km_q3_days": None,
    }
    if rows:
        km_q1, km_med, km_q3, ci_lower, ci_upper = _km_figures(_fit(rows))
        out["km_q1_days"], out["km_median_days"], out["km_q3_days"] = km_q1, km_med, km_q3
        out["km_median_ci_days"] = [ci_lower, ci_upper]  # no band for Turnbull's: both None
    return out


def _cross(series: Any, p: float) -> float | None:
    below = series[series <= p + 1e-12]
    return float(below.index[0]) if len(below) else None


def km_points(rows: Sequence[LagRow]) -> list[dict[str, Any]]:
    """Kaplan-Meier steps: days, share still uncontrolled, its 95% band, at risk, events, censored."""
    if not rows:
        return []
    return [dict(zip(_POINT_KEYS, p, strict=True)) for p in _km_steps(_fit(rows))]


_POINT_KEYS = (
    "days",
    "months",
    "survival",
    "ci_lower",
    "ci_upper",
    "at_risk",
    "events",
    "censored",
)


@lru_cache(maxsize=_FITS_REMEMBERED)
def _km_steps(fit: Fit) -> tuple[tuple[Any, ...], ...]:
    """The steps of `km_points` as tuples (remembered per fit; callers get fresh dicts)."""
    kmf = _km(fit)
    if _turnbull(fit):
        return _turnbull_points(fit, _survival(kmf))
    sf = kmf.survival_function_["KM"]
    ci = kmf.confidence_interval_survival_function_
    table = kmf.event_table
    return tuple(
        (
            float(t),
            round(float(t) / DAYS_PER_MONTH, 3),
            _finite(sf.loc[t], 6),
            _finite(ci.iloc[:, 0].loc[t], 6),
            _finite(ci.iloc[:, 1].loc[t], 6),
            int(table.loc[t, "at_risk"]),
            int(table.loc[t, "observed"]),
            int(table.loc[t, "censored"]),
        )
        for t in sf.index
    )


def _turnbull_points(fit: Fit, sf: Any) -> tuple[tuple[Any, ...], ...]:
    """Steps of a Turnbull curve (no band); an interval-censored row counts at its upper bound."""
    points = []
    for t in sf.index:
        days = float(t)
        points.append(
            (
                days,
                round(days / DAYS_PER_MONTH, 3),
                _finite(sf.loc[t], 6),
                None,
                None,
                sum(d >= days for d, _, _ in fit),
                sum(e and d == days for d, e, _ in fit),
                sum(not e and d == days for d, e, _ in fit),
            )
        )
    return tuple(points)


def grouped(rows: Iterable[LagRow], by: GroupBy | str) -> dict[str, list[LagRow]]:
    """Rows per value of a grouping, keys sorted."""
    groups: dict[str, list[LagRow]] = defaultdict(list)
    for r in rows:
        groups[r.group(by)].append(r)
    return dict(sorted(groups.items()))


def logrank(rows: Sequence[LagRow], *, by: GroupBy | str, a: str, b: str) -> dict[str, Any]:
    """Log-rank test of time to control between two groups of a grouping."""
    from lifelines.statistics import logrank_test

    groups = grouped(rows, by)
    for name, value in (("a", a), ("b", b)):
        if value not in groups:
            known = ", ".join(groups) or "none"
            raise UnprocessableInput(
                ("query", name), f"no lag rows in group {value!r} of {by}; groups: {known}"
            )
    # the log-rank test needs exact or right-censored times: interval-censored rows stay out
    ga = [r for r in groups[a] if r.censoring != "interval"]
    gb = [r for r in groups[b] if r.censoring != "interval"]
    result = logrank_test(
        [r.duration_days for r in ga],
        [r.duration_days for r in gb],
        event_observed_A=[r.event for r in ga],
        event_observed_B=[r.event for r in gb],
    )
    return {
        "group_by": str(GroupBy(by)),
        "a": a,
        "b": b,
        "n_a": len(ga),
        "n_b": len(gb),
        "n_interval_censored_left_out": len(groups[a]) + len(groups[b]) - len(ga) - len(gb),
        "test_statistic": _finite(result.test_statistic),
        "p_value": _finite(result.p_value),
    }


def summary(
    table: LagTable,
    *,
    group_by: Sequence[GroupBy | str] | None = None,
    compare: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Statistics of a lag table overall and per grouping, with an optional log-rank test."""
    bys = [GroupBy(b) for b in group_by] if group_by else list(GroupBy)
    if compare is not None and len(bys) != 1:
        raise UnprocessableInput(
            ("query", "group_by"), "a log-rank comparison needs exactly one group_by"
        )
    out: dict[str, Any] = {
        "as_of": table.as_of.isoformat(),
        "basis": table.basis,
        "n_rows": len(table.rows),
        "n_substances": len({r.key for r in table.rows}),
        "n_without_appearance": len(table.without_appearance),
        "without_appearance": table.without_appearance,
        "n_without_local_appearance": table.without_local_appearance,
        "n_appeared_after_as_of": table.appeared_after_as_of,
        "overall": group_stats(table.rows),
        "groups": {
            by.value: [{"group": k, **group_stats(v)} for k, v in grouped(table.rows, by).items()]
            for by in bys
        },
        "logrank": None,
    }
    if compare is not None:
        out["logrank"] = logrank(table.rows, by=bys[0], a=compare[0], b=compare[1])
    return out


def curves(rows: Sequence[LagRow], *, by: GroupBy | str) -> list[dict[str, Any]]:
    """Kaplan-Meier curve per group, with the censored times for marks."""
    return [
        {
            "group": k,
            "n": len(v),
            "n_censored": sum(not r.event for r in v),
            "n_interval_censored": sum(r.censoring == "interval" for r in v),
            "censored_days": sorted(r.duration_days for r in v if not r.event),
            "points": km_points(v),
        }
        for k, v in grouped(rows, by).items()
    ]
