"""The backtest on the shipped registry: the API endpoint, its cache and the CLI JSON contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from dbkit import service_database_url, service_environment, service_settings
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.backtest import service as backtest
from service.backtest.cache import BacktestCache
from service.check.service import DEFAULT_ELSEWHERE_THRESHOLD
from service.cli import app as cli_app
from service.config import get_settings
from service.errors import UnknownJurisdiction
from service.paths import schedules_dir

CONTRACT = {
    "jurisdiction",
    "n_later_controlled",
    "n_warned",
    "recall",
    "median_lead_months",
    "false_alarm_rate",
    "misses",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = service_database_url(tmp_path_factory.mktemp("backtest-real"), "registry.db")
    settings = service_settings(url, schedules_dir=schedules_dir())
    with TestClient(create_app(settings)) as c:
        yield c


def _check_contract(data: dict, codes: set[str]) -> None:
    assert {"fingerprint", "threshold", "jurisdictions"} <= set(data)
    assert {j["jurisdiction"] for j in data["jurisdictions"]} == codes
    for j in data["jurisdictions"]:
        assert set(j) >= CONTRACT
        assert 0 <= j["n_warned"] <= j["n_later_controlled"]
        if j["n_later_controlled"]:
            assert j["recall"] == round(j["n_warned"] / j["n_later_controlled"], 4)
        assert len(j["misses"]) == j["n_later_controlled"] - j["n_warned"]
        for m in j["misses"]:
            assert "nearest" in m and "why" in m
            if m["nearest"] is not None:
                assert m["nearest"]["similarity"] < data["threshold"]
                assert m["nearest"]["inchikey"] != m["inchikey"]  # never itself
            assert m["t"] < m["controlled"]


def test_summary_endpoint_is_cached_per_registry_version(client: TestClient) -> None:
    r = client.get("/backtest/summary")
    assert r.status_code == 200
    data = r.json()
    settings = client.app.state.settings  # type: ignore[attr-defined]
    assert data["fingerprint"] == f"morgan{settings.fingerprint_radius}"
    assert data["threshold"] == settings.similarity_threshold
    _check_contract(data, {"US", "UN", "CN", "EU", "UK"})
    us = next(j for j in data["jurisdictions"] if j["jurisdiction"] == "US")
    # acetylfentanyl (first reported in the US in 2013, US permanent order 82 FR 26349 of 2017,
    # preceded by a 2015 temporary order) resembles fentanyl (US Schedule II since 1971)
    warned = {w["key"]: w for w in us["warned"]}
    assert "acetylfentanyl" in warned
    # and fentanyl is controlled elsewhere too (UN Single Convention, 1961): similar_elsewhere;
    # it carries the scaffold of the fentanyls listed then (shares_scaffold)
    assert warned["acetylfentanyl"]["signals"] == [
        "similarity",
        "similar_elsewhere",
        "shares_scaffold",
    ]
    other = warned["acetylfentanyl"]["nearest_elsewhere"]
    assert other["name"] == "Fentanyl"
    assert "UN" in [p["jurisdiction"] for p in other["where"]]
    assert all(p["in_force_from"] <= "2013-01-01" for p in other["where"])
    assert data["elsewhere_threshold"] == DEFAULT_ELSEWHERE_THRESHOLD
    assert warned["acetylfentanyl"]["t"] == "2013-01-01"
    assert us["false_alarm_rate"] <= 0.01
    cache: BacktestCache = client.app.state.backtest_cache  # type: ignore[attr-defined]
    computed = cache.computed
    again = client.get("/backtest/summary")
    assert again.json() == data
    assert cache.computed == computed  # served from memory
    other = client.get("/backtest/summary", params={"threshold": 0.9})
    assert other.status_code == 200
    assert cache.computed == computed  # same run, another threshold
    assert other.json()["overall"]["n_warned"] <= data["overall"]["n_warned"]


def test_cache_recomputes_when_the_registry_version_changes(client: TestClient) -> None:
    holder = client.app.state.index_holder  # type: ignore[attr-defined]
    snap = holder.get().snapshot
    cache = BacktestCache()
    kw = dict(
        fingerprint="morgan2",
        bits=2048,
        threshold=0.45,
        jurisdictions=("US",),
        as_of=date(2026, 1, 1),
    )
    cache.summary(snap, version="v1", **kw)
    cache.summary(snap, version="v1", **kw)
    assert cache.computed == 1
    cache.summary(snap, version="v2", **kw)
    assert cache.computed == 2


def test_summary_refuses_an_unknown_fingerprint(client: TestClient) -> None:
    r = client.get("/backtest/summary", params={"fingerprint": "ecfp"})
    assert r.status_code == 422


def test_cli_json_contract(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    service_environment(monkeypatch, service_database_url(tmp_path, "cli.db"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli_app,
            [
                "backtest",
                "--registry",
                str(schedules_dir()),
                "-j",
                "US",
                "--fingerprint",
                "torsion",
                "--threshold",
                "0.5",
                "--json",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["fingerprint"], data["threshold"]) == ("torsion", 0.5)
    _check_contract(data, {"US"})
    assert data["jurisdictions"][0]["n_later_controlled"] >= 15


def test_cli_refuses_bad_options() -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["backtest", "--json", "--csv"])
    assert r.exit_code == 2
    assert "not both" in r.stderr
    r = runner.invoke(cli_app, ["backtest", "--fingerprint", "ecfp"])
    assert r.exit_code == 2


def test_a_subset_of_jurisdictions_reads_the_whole_run_and_says_the_same(
    client: TestClient,
) -> None:
    """The cache computes one run over every jurisdiction; a subset's summary from it equals the
    summary of a run over that subset alone."""
    snap = client.app.state.index_holder.get().snapshot  # type: ignore[attr-defined]
    cache = BacktestCache()
    on = date(2026, 1, 1)
    kw = dict(fingerprint="morgan2", bits=2048, threshold=0.45, version="v1", as_of=on)
    cache.summary(snap, jurisdictions=None, **kw)
    subset = cache.summary(snap, jurisdictions=("CN", "UK"), **kw)
    assert cache.computed == 1  # the subset was read from the whole run
    alone = backtest.summarize(
        backtest.run(snap, as_of=on, jurisdictions=["CN", "UK"]),
        threshold=0.45,
        jurisdictions=["CN", "UK"],
    )
    assert {k: v for k, v in subset.items() if k in alone} == alone
    assert [g["jurisdiction"] for g in subset["jurisdictions"]] == ["CN", "UK"]
    with pytest.raises(UnknownJurisdiction):
        cache.summary(snap, jurisdictions=("XX",), **kw)


def test_the_split_by_period_partitions_the_tests(client: TestClient) -> None:
    snap = client.app.state.index_holder.get().snapshot  # type: ignore[attr-defined]
    run = backtest.run(snap, as_of=date(2026, 1, 1), jurisdictions=["CN", "US"])
    periods = backtest.period_rows(run, threshold=0.55)
    assert [p["period"] for p in periods] == [label for label, _, _ in backtest.PERIODS]
    assert sum(p["groups"]["all"]["n_later_controlled"] for p in periods) == len(run.trials)
    for code in ("CN", "US"):
        tested = sum(p["groups"][code]["n_later_controlled"] for p in periods)
        warned = sum(p["groups"][code]["n_warned"] for p in periods)
        whole = backtest.summarize(run, threshold=0.55, jurisdictions=[code])["jurisdictions"][0]
        assert (tested, warned) == (whole["n_later_controlled"], whole["n_warned"])
    # acetyl fentanyl (first reported 2013) is tested before 2014, the nitazenes from 2019 on
    early = {w["key"] for w in periods[0]["groups"]["all"]["warned"]}
    assert "acetylfentanyl" in early
