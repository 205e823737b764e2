"""Summary and curves on the shipped registry (schedules/), with answers from its public sources."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient

from service.app import create_app
from service.check.index import IndexHolder
from service.paths import schedules_dir
from service.registry.snapshot import Snapshot

AS_OF = "2026-01-01"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = service_database_url(tmp_path_factory.mktemp("lag-real"), "registry.db")
    settings = service_settings(url, schedules_dir=schedules_dir())
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def snap(real: TestClient) -> Snapshot:
    holder: IndexHolder = real.app.state.index_holder  # type: ignore[attr-defined]
    return holder.get().snapshot


def _row(rows: list[dict[str, Any]], name: str, j: str) -> dict[str, Any]:
    return next(r for r in rows if r["key"] == name and r["jurisdiction"] == j)


def test_known_lags(real: TestClient) -> None:
    rows = real.get("/lag", params={"as_of": AS_OF}).json()["data"]
    # furanyl fentanyl: in the EU since at least June 2015, and a US case report of 2015 (a
    # year): the first report lies in 2015-01-01..2015-06-30; US temporary order 2016-11-29
    f = _row(rows, "furanylfentanyl", "US")
    assert (f["start_date"], f["end_date"], f["end_citation"], f["outcome"]) == (
        "2015",
        "2016-11-29",
        "81 FR 85873",
        "individual",
    )
    assert (f["lag_days_min"], f["lag_days"], f["lag_days_max"]) == (518, 608, 698)
    # acryloylfentanyl: in the EU since April 2016; China's Supplementary List from 2017-03-01
    a = _row(rows, "acryloylfentanyl", "CN")
    assert (a["end_date"], a["outcome"], a["lag_days_min"], a["lag_days"], a["lag_days_max"]) == (
        "2017-03-01",
        "individual",
        305,
        320,
        334,
    )


def test_summary_on_the_real_registry(real: TestClient, snap: Snapshot) -> None:
    s = real.get("/lag/summary", params={"as_of": AS_OF}).json()
    reported = [x for x in snap.substances if x.appearances]
    unreported_nps = [x.key for x in snap.substances if not x.appearances and x.nps]
    assert s["n_substances"] == len(reported) and s["n_rows"] == len(reported) * len(
        snap.jurisdictions
    )
    assert s["n_without_appearance"] == len(unreported_nps) > 0
    groups = {g["group"]: g for g in s["groups"]["jurisdiction"]}
    assert sorted(groups) == sorted(snap.jurisdictions)
    for g in groups.values():
        assert g["n"] == len(reported)
        assert g["n_controlled"] + g["n_censored"] == g["n"]
        assert g["n_individual"] + g["n_class"] + g["n_pre_emptive"] == g["n_controlled"]
    # the US and China controlled almost every reported compound; their KM medians exist
    for code in ("US", "CN"):
        assert groups[code]["km_median_days"] is not None
        assert (
            groups[code]["observed_q1_days"]
            <= groups[code]["observed_median_days"]
            <= groups[code]["observed_q3_days"]
        )
    assert {g["group"] for g in s["groups"]["class_law"]} <= {"before", "after", "none"}


def test_curve_on_the_real_registry(real: TestClient) -> None:
    c = real.get("/lag/curve", params={"as_of": AS_OF, "group_by": "jurisdiction"}).json()
    assert c["group_by"] == "jurisdiction" and len(c["data"]) >= 3
    for g in c["data"]:
        pts = g["points"]
        assert pts[0]["days"] == 0 and pts[0]["at_risk"] == g["n"]
        surv = [p["survival"] for p in pts]
        assert all(a >= b for a, b in pairwise(surv))
        for p in pts:
            assert p["ci_lower"] is None or p["ci_lower"] <= p["survival"] + 1e-9
            assert p["ci_upper"] is None or p["survival"] <= p["ci_upper"] + 1e-9
        assert sum(p["censored"] for p in pts) == g["n_censored"] == len(g["censored_days"])
    svg = real.get("/lag/plot.svg", params={"as_of": AS_OF}).text
    assert "months since first appearance" in svg


def test_local_basis_and_logrank_on_the_real_registry(real: TestClient) -> None:
    loc = real.get(
        "/lag/summary", params={"as_of": AS_OF, "basis": "local", "group_by": "jurisdiction"}
    ).json()
    assert loc["basis"] == "local" and loc["n_without_local_appearance"] > 0
    body = real.get(
        "/lag/summary", params={"as_of": AS_OF, "group_by": "jurisdiction", "a": "US", "b": "CN"}
    ).json()
    lr = body["logrank"]
    n = {g["group"]: g for g in body["groups"]["jurisdiction"]}
    assert n["US"]["n"] == n["CN"]["n"]  # one global-basis row per substance and jurisdiction
    # interval-censored rows (a consolidated list's date) stay out of the log-rank test
    left_out = n["US"]["n_interval_censored"] + n["CN"]["n_interval_censored"]
    assert lr["n_interval_censored_left_out"] == left_out
    assert lr["n_a"] + lr["n_b"] + left_out == n["US"]["n"] + n["CN"]["n"]
    assert 0 <= lr["p_value"] <= 1


def test_censored_rows_under_an_unencoded_generic_law_say_so(real: TestClient) -> None:
    body = real.get("/lag", params={"as_of": AS_OF}).json()
    rows = body["data"]
    # acetylfentanyl has no UK act and the UK fentanyl generic is not encoded: censored in the
    # UK, but naming the law that may control it; controlled in the US, so no law named there
    uk = _row(rows, "acetylfentanyl", "UK")
    assert (uk["outcome"], uk["unencoded_law"]) == ("censored", "uk-fentanyl-generic")
    assert _row(rows, "acetylfentanyl", "US")["unencoded_law"] is None
    # only censored UK rows name it, and never a compound without fentanyl's core
    named = [r for r in rows if r["unencoded_law"]]
    assert named and all(r["jurisdiction"] == "UK" and r["outcome"] == "censored" for r in named)
    assert all(r["family"] == "fentanyl" for r in named)
    assert body["n_censored_unencoded"] == len(named)
    s = real.get("/lag/summary", params={"as_of": AS_OF}).json()
    groups = {g["group"]: g for g in s["groups"]["jurisdiction"]}
    assert groups["UK"]["n_censored_unencoded"] == len(named) <= groups["UK"]["n_censored"]
    assert all(groups[c]["n_censored_unencoded"] == 0 for c in groups if c != "UK")
