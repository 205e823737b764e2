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


def test_a_fit_is_made_once_and_its_figures_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lag statistics and curves of the same rows fit Kaplan-Meier once: a second summary,
    or the curves after it, fits nothing and gives the same figures; each caller gets its own
    point dicts, so changing one changes no later answer."""
    from service.lag import service as lag

    spec = [(111, True), (222, False), (333, True), (444, True), (555, False)]
    table = LagTable(
        as_of=date(2020, 1, 1),
        basis="global",
        rows=rows(spec, "US") + rows(spec[:3], "UN"),
        without_appearance=[],
        without_local_appearance=0,
        appeared_after_as_of=0,
    )
    fits: list[int] = []
    real = lag._km

    def counting(fit):  # type: ignore[no-untyped-def]
        fits.append(len(fit))
        return real(fit)

    monkeypatch.setattr(lag, "_km", counting)
    lag._km_figures.cache_clear()
    lag._km_steps.cache_clear()
    first = summary(table)
    made = len(fits)
    assert made > 0
    assert summary(table) == first
    assert len(fits) == made  # nothing fitted again
    points = curves(table.rows, by="jurisdiction")
    again = len(fits)
    points[0]["points"][0]["survival"] = -1.0
    assert curves(table.rows, by="jurisdiction")[0]["points"][0]["survival"] != -1.0
    assert len(fits) == again
    # other rows are another fit
    group_stats(rows([(10, True), (20, True)]))
    assert len(fits) == again + 1


def test_a_drawing_is_made_once_per_curves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same curves, format and title give the remembered bytes without drawing again;
    other curves are drawn."""
    drawn: list[int] = []
    real = plot.plt.subplots

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        drawn.append(1)
        return real(*a, **k)

    monkeypatch.setattr(plot.plt, "subplots", counting)
    plot._render.cache_clear()
    c = curves(rows([(100, True), (200, False), (300, True)]), by="jurisdiction")
    png = plot.render(c, fmt="png", title="memo")
    assert plot.render(c, fmt="png", title="memo") == png
    assert len(drawn) == 1
    other = curves(rows([(100, True), (250, True)]), by="jurisdiction")
    assert plot.render(other, fmt="png", title="memo") != png
    assert len(drawn) == 2
