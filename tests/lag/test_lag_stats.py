"""Statistics of lag rows: observed quartiles, Kaplan-Meier with censoring, log-rank."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from lagkit import act, appearance, substance

from service.errors import UnprocessableInput
from service.lag import plot
from service.lag.service import (
    LagRow,
    LagTable,
    curves,
    group_stats,
    km_points,
    lag_row,
    logrank,
    summary,
)

TEMPLATE = lag_row(
    substance(
        "t", appearances=(appearance("2016-01-10"),), acts={"US": (act("permanent", "2016-07-01"),)}
    ),
    jurisdiction="US",
    basis="global",
    as_of=date(2020, 1, 1),
)


def rows(spec: list[tuple[int, bool]], j: str = "US") -> list[LagRow]:
    assert TEMPLATE is not None
    return [
        replace(
            TEMPLATE,
            key=f"{j}{i}",
            jurisdiction=j,
            lag_days=d,
            duration_days=d,
            event=e,
            outcome="individual" if e else "censored",
        )
        for i, (d, e) in enumerate(spec)
    ]


def test_km_counts_the_censored() -> None:
    # 100, 200 controlled; 300 censored; 400 controlled: S = 3/4, 1/2, 1/2, 0
    g = group_stats(rows([(100, True), (200, True), (300, False), (400, True)]))
    assert (g["n"], g["n_controlled"], g["n_censored"]) == (4, 3, 1)
    assert (g["observed_q1_days"], g["observed_median_days"], g["observed_q3_days"]) == (
        150,
        200,
        300,
    )
    assert (g["km_q1_days"], g["km_median_days"], g["km_q3_days"]) == (100, 200, 400)


def test_km_median_not_reached() -> None:
    g = group_stats(rows([(100, True), (200, False), (300, False)]))
    assert g["km_median_days"] is None and g["observed_median_days"] == 100


def test_km_points() -> None:
    pts = km_points(rows([(100, True), (200, True), (300, False), (400, True)]))
    assert [(p["days"], p["survival"]) for p in pts] == [
        (0, 1.0),
        (100, 0.75),
        (200, 0.5),
        (300, 0.5),
        (400, 0.0),
    ]
    assert [p["censored"] for p in pts] == [0, 0, 0, 1, 0]
    assert pts[1]["at_risk"] == 4 and pts[1]["ci_lower"] < 0.75 < pts[1]["ci_upper"]


def test_logrank() -> None:
    same = logrank(
        rows([(100, True), (200, True)], "US") + rows([(100, True), (200, True)], "CN"),
        by="jurisdiction",
        a="US",
        b="CN",
    )
    assert same["test_statistic"] == pytest.approx(0.0) and same["p_value"] == pytest.approx(1.0)
    fast = rows([(d, True) for d in (10, 20, 30, 40, 50, 60)], "US")
    slow = rows(
        [(d, True) for d in (1000, 1100, 1200, 1300)] + [(1400, False), (1500, False)], "CN"
    )
    diff = logrank(fast + slow, by="jurisdiction", a="US", b="CN")
    assert diff["p_value"] < 0.01 and (diff["n_a"], diff["n_b"]) == (6, 6)
    with pytest.raises(UnprocessableInput, match="no lag rows in group 'UK'"):
        logrank(fast, by="jurisdiction", a="US", b="UK")


def test_summary_and_curves() -> None:
    data = rows([(100, True), (300, False)], "US") + rows([(50, True)], "CN")
    table = LagTable(
        as_of=date(2020, 1, 1),
        basis="global",
        rows=data,
        without_appearance=["x"],
        without_local_appearance=0,
        appeared_after_as_of=0,
    )
    s = summary(table, group_by=["jurisdiction"], compare=("US", "CN"))
    assert [g["group"] for g in s["groups"]["jurisdiction"]] == ["CN", "US"]
    assert s["n_without_appearance"] == 1 and s["overall"]["n"] == 3 and s["logrank"]["a"] == "US"
    assert set(summary(table)["groups"]) == {"jurisdiction", "family", "year", "class_law"}
    c = curves(data, by="jurisdiction")
    assert [(x["group"], x["n"], x["censored_days"]) for x in c] == [
        ("CN", 1, []),
        ("US", 2, [300]),
    ]
    svg = plot.render(c, fmt="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "months since first appearance" in svg
    assert "US (n=2, censored 1)" in svg
    assert plot.render(c, fmt="png").startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="format 'gif'"):
        plot.render(c, fmt="gif")
