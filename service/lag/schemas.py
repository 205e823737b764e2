"""Response models of the lag API: rows, statistics, Kaplan-Meier curves.

The row keys `name`, `inchikey`, `jurisdiction`, `basis`, `start_date`, `end_date`,
`lag_days`, `lag_days_min`, `lag_days_max` and `outcome` are a public contract: new keys may
be added, these are never renamed. The lag rule is documented in :mod:`service.lag.service`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

OutcomeLiteral = Literal["individual", "class", "censored", "pre_emptive", "interval_censored"]
BasisLiteral = Literal["global", "local"]
GroupByLiteral = Literal["jurisdiction", "family", "year", "class_law"]


class LagRowPublic(BaseModel):
    """One scheduling lag: a substance in a jurisdiction, from first appearance to first control."""

    name: str = Field(description="preferred name of the substance")
    inchikey: str = Field(description="full InChIKey of the standardized parent")
    jurisdiction: str = Field(description="jurisdiction code (US, UN, CN, EU, UK, ...)")
    basis: BasisLiteral = Field(
        description="global: earliest report anywhere; local: earliest report in the jurisdiction "
        "(for the EU: in a member state or the EU as a whole; for the UN local is global)"
    )
    start_date: str = Field(
        description="first appearance as the source states it: 2016, 2016-11 or 2016-11-14 "
        "(a year is never 1 January)"
    )
    end_date: date = Field(
        description="day the first control took effect; the as-of date when censored; the "
        "list's date (an upper bound) when end_kind is listed_by"
    )
    lag_days: int = Field(
        description="point value: end minus the midpoint of the start interval; zero or below "
        "only when pre-emptive"
    )
    lag_days_min: int = Field(description="end minus the latest possible start day")
    lag_days_max: int = Field(description="end minus the earliest possible start day")
    outcome: OutcomeLiteral = Field(
        description="individual or class: the first control and what it was; censored: not "
        "controlled by the as-of date; pre_emptive: controlled on or before the earliest "
        "possible appearance day; interval_censored: the first control on record is a "
        "consolidated list (listed_by) showing it controlled by end_date, since when unknown"
    )
    key: str = Field(description="registry key of the substance")
    family: str = Field(description="drug family")
    start_precision: Literal["day", "month", "year"] = Field(description="precision of start_date")
    start_earliest: date = Field(description="first day start_date can stand for")
    start_latest: date = Field(description="last day start_date can stand for")
    start_place: str = Field(description="where the first report was made (ISO code, EU or XX)")
    start_reporter: str = Field(description="who made the first report")
    start_source: str = Field(description="where the first report is stated")
    end_citation: str = Field(
        description="legal citation of the controlling act (empty when censored)"
    )
    end_source: str = Field(description="where the controlling act is stated (empty when censored)")
    end_kind: str = Field(
        description="kind of the controlling act: temporary, extension, permanent or listed_by "
        "(empty when censored)"
    )
    class_key: str | None = Field(
        description="the class definition that controlled it, if by class"
    )
    straddles_control: bool = Field(
        description="the control fell inside the appearance interval: it may have come first"
    )
    duration_days: int = Field(
        description="time used by the survival statistics: lag_days, or 0 when pre-emptive"
    )
    event: bool = Field(description="false when censored or interval-censored")
    class_law: Literal["before", "after", "none"] = Field(
        description="first appearance (midpoint) before or on/after the jurisdiction's first class "
        "law took effect; none when the jurisdiction has no class law"
    )
    censoring: Literal["none", "right", "interval"] = Field(
        default="none",
        description="right: not controlled by the as-of date; interval: controlled at some time "
        "between 0 and duration_days (a listed_by act)",
    )
    unencoded_law: str | None = Field(
        default=None,
        description="on a right-censored row: the key of a generic law in force there by the "
        "as-of date that the registry does not encode and whose core the substance has "
        "(schedules/unencoded/); the substance may be controlled under it, so the row may not "
        "be uncontrolled at all",
    )


class LagRowsPublic(BaseModel):
    """Lag rows with the as-of date and what was left out."""

    data: list[LagRowPublic]
    count: int
    as_of: date
    basis: BasisLiteral
    n_without_appearance: int = Field(
        description="NPS or reported substances with no appearance (no lag row for them)"
    )
    n_interval_censored: int = Field(
        default=0,
        description="rows whose first control on record is a consolidated list (listed_by): "
        "controlled by end_date, since when unknown",
    )
    n_censored_unencoded: int = Field(
        default=0,
        description="censored rows whose substance may be controlled under a generic law the "
        "registry does not encode (rows with unencoded_law)",
    )


class GroupStatsPublic(BaseModel):
    """Statistics of the lags of one group (days)."""

    group: str | None = Field(default=None, description="value of the grouping (absent overall)")
    n: int
    n_controlled: int
    n_censored: int
    n_interval_censored: int = Field(
        default=0,
        description="rows whose first control is a consolidated list's date (kind listed_by): "
        "controlled on or before it, since when unknown",
    )
    n_censored_unencoded: int = Field(
        default=0,
        description="censored rows whose substance may be controlled under a generic law the "
        "registry does not encode (rows with unencoded_law)",
    )
    n_control_day_unknown: int = Field(
        default=0, description="rows ending on a listed_by date (interval-censored or pre-emptive)"
    )
    n_pre_emptive: int
    n_individual: int
    n_class: int
    observed_median_days: float | None = Field(
        description="median lag_days of controlled rows whose day of control is known"
    )
    observed_q1_days: float | None
    observed_q3_days: float | None
    km_median_days: float | None = Field(
        description="Kaplan-Meier median time to control (censored rows counted); None when "
        "fewer than half were controlled"
    )
    km_median_ci_days: list[float | None] = Field(description="95% band of the KM median")
    km_q1_days: float | None = Field(description="KM time by which a quarter were controlled")
    km_q3_days: float | None = Field(description="KM time by which three quarters were controlled")


class LogrankPublic(BaseModel):
    """Log-rank test of time to control between two groups."""

    group_by: GroupByLiteral
    a: str
    b: str
    n_a: int
    n_b: int
    n_interval_censored_left_out: int = 0
    test_statistic: float | None
    p_value: float | None


class LagSummaryPublic(BaseModel):
    """Lag statistics overall and per grouping."""

    as_of: date
    basis: BasisLiteral
    n_rows: int
    n_substances: int
    n_without_appearance: int = Field(description="NPS or reported substances with no appearance")
    without_appearance: list[str] = Field(description="their registry keys")
    n_without_local_appearance: int = Field(
        description="(substance, jurisdiction) pairs without a local report (local basis)"
    )
    n_appeared_after_as_of: int
    overall: GroupStatsPublic
    groups: dict[str, list[GroupStatsPublic]] = Field(
        description="statistics per group, by grouping"
    )
    logrank: LogrankPublic | None = None


class CurvePointPublic(BaseModel):
    """One step of a Kaplan-Meier curve."""

    days: float
    months: float
    survival: float | None = Field(description="estimated share still uncontrolled")
    ci_lower: float | None
    ci_upper: float | None
    at_risk: int
    events: int
    censored: int


class CurvePublic(BaseModel):
    """The Kaplan-Meier curve of one group."""

    group: str
    n: int
    n_censored: int
    n_interval_censored: int = 0
    censored_days: list[int]
    points: list[CurvePointPublic]


class CurvesPublic(BaseModel):
    """Kaplan-Meier curves of time to control, one per group."""

    as_of: date
    basis: BasisLiteral
    group_by: GroupByLiteral
    data: list[CurvePublic]
