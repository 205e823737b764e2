"""Response models of the backtest API.

The keys `fingerprint`, `threshold`, `jurisdictions` and, per jurisdiction, `jurisdiction`,
`n_later_controlled`, `n_warned`, `recall`, `median_lead_months`, `false_alarm_rate` and
`misses` are a public contract: new keys may be added, these are never renamed. The
experiment is documented in :mod:`service.backtest.service`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class NeighborPublic(BaseModel):
    """The nearest substance controlled in the jurisdiction at t."""

    name: str
    inchikey: str
    id: int | None = None
    similarity: float = Field(description="Tanimoto similarity (0 to 1) in the run's fingerprint")


class NearestAnywherePublic(BaseModel):
    """The nearest substance controlled anywhere at t (S's own skeleton excluded)."""

    name: str
    inchikey: str
    similarity: float
    controlled_in: list[str]


class PlacePublic(BaseModel):
    """A jurisdiction controlling a substance, and since when."""

    jurisdiction: str
    in_force_from: str
    citation: str


class ElsewherePublic(BaseModel):
    """The nearest substance controlled in another jurisdiction at t."""

    signal: str
    name: str
    key: str
    similarity: float | None
    where: list[PlacePublic]


class TrialPublic(BaseModel):
    """One test: a substance first reported at t and controlled later in a jurisdiction."""

    name: str
    key: str
    inchikey: str
    family: str
    jurisdiction: str
    first_appearance: str = Field(
        description="as the source states it: 2016, 2016-11 or 2016-11-14"
    )
    t: str = Field(description="day of the check: earliest possible day of the first appearance")
    controlled: str = Field(description="day the first control in the jurisdiction took effect")
    control: str = Field(description="individual or class")
    class_key: str | None
    citation: str
    status: str = Field(description="the check's verdict at t")
    signals: list[str] = Field(description="signals that fired at the threshold")
    warned: bool
    lead_months: float | None = Field(
        description="scheduling lag: control minus the midpoint of the appearance interval"
    )
    lead_months_min: float | None = Field(
        description="control minus the latest possible appearance day"
    )
    lead_months_max: float | None = Field(
        description="control minus the earliest possible appearance day"
    )
    nearest: NeighborPublic | None = Field(
        description="nearest substance controlled in the jurisdiction at t"
    )
    nearest_elsewhere: ElsewherePublic | None = Field(
        default=None,
        description="nearest other substance controlled in another jurisdiction at t, where "
        "and since when (the `similar_elsewhere` signal's evidence)",
    )
    nearest_anywhere: NearestAnywherePublic | None
    why: str | None = Field(default=None, description="for a miss: why no signal fired")


class SignalPublic(BaseModel):
    """How one signal did on its own."""

    n_fired: int
    recall: float | None
    median_lead_months: float | None
    false_alarm_rate: float | None
    false_alarm_rate_now: float | None


class CombinedPublic(BaseModel):
    """A set of signals together: recall, median lead and false alarms."""

    n_warned: int
    recall: float | None
    median_lead_months: float | None
    false_alarm_rate: float | None
    false_alarm_rate_now: float | None


class JurisdictionBacktestPublic(BaseModel):
    """Recall, lead time and false alarms in one jurisdiction (or `all`, pooled)."""

    jurisdiction: str
    n_later_controlled: int = Field(
        description="substances first reported before their control here"
    )
    n_warned: int
    recall: float | None = Field(description="n_warned / n_later_controlled")
    median_lead_months: float | None = Field(
        description="median lead time of the warned substances"
    )
    lead_q1_months: float | None
    lead_q3_months: float | None
    false_alarm_rate: float | None = Field(
        description="share of background drugs flagged against the registry frozen at each t, "
        "averaged over the substances tested"
    )
    false_alarm_rate_now: float | None = Field(
        description="share of background drugs flagged against the registry as of the as-of date"
    )
    n_background: int
    signals: dict[str, SignalPublic]
    original_signals: CombinedPublic | None = Field(
        default=None,
        description="the check's original four signals together (before similar_elsewhere "
        "and class_elsewhere), for comparison",
    )
    warned: list[TrialPublic]
    misses: list[TrialPublic] = Field(
        description="not warned at t, with the nearest earlier neighbour"
    )


class CounterfactualSubstancePublic(BaseModel):
    """An individual listing the earlier class law would or would not have covered."""

    name: str
    key: str
    controlled: str
    citation: str
    covered: bool
    class_keys: list[str]
    months_earlier: float | None
    lag_months: float | None
    lag_months_saved: float | None


class CounterfactualPublic(BaseModel):
    """Had the jurisdiction's class law been in force from `since`."""

    jurisdiction: str
    class_law_date: str
    since: str
    n_listings: int = Field(description="individual listings from `since` to the class law")
    n_covered: int = Field(description="of which the class's structural rules cover")
    months_earlier_total: float
    months_earlier_median: float | None
    n_with_appearance: int
    lag_months_saved_total: float
    lag_months_saved_median: float | None
    substances: list[CounterfactualSubstancePublic]


class BacktestSummaryPublic(BaseModel):
    """The early-warning backtest at one fingerprint and threshold."""

    fingerprint: str
    threshold: float
    elsewhere_threshold: float | None = Field(
        default=None, description="similarity threshold of the similar_elsewhere signal"
    )
    as_of: str
    bits: int
    basis: str
    date_rule: str
    n_background: int
    background: str
    dates: list[str] = Field(description="distinct days t at which the registry was frozen")
    jurisdictions: list[JurisdictionBacktestPublic]
    overall: JurisdictionBacktestPublic
    counterfactual: list[CounterfactualPublic] = Field(default_factory=list)
    registry_version: str | None = None
