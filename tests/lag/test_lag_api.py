"""The lag API and CLI on the small test registry (SQLite and PostgreSQL), known answers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbkit import service_database_url, service_environment
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app as cli_app
from service.config import Settings, get_settings
from service.registry.loader import load_registry

CONTRACT = [
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
]
AS_OF = "2020-01-01"


@pytest.fixture
def client(engine: Engine, registry_dir: Path) -> Iterator[TestClient]:
    load_registry(engine, registry_dir)
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False), schedules_dir=registry_dir
    )
    with TestClient(create_app(settings, engine=engine)) as c:
        yield c


def test_rows_global(client: TestClient) -> None:
    r = client.get("/lag", params={"as_of": AS_OF})
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], body["basis"], body["n_without_appearance"]) == (5, "global", 2)
    by_j = {row["jurisdiction"]: row for row in body["data"]}
    assert sorted(by_j) == ["CN", "EU", "UK", "UN", "US"]
    us = by_j["US"]
    # furanyl fentanyl: a 2015 US report and a 2015-06 EU report -> 2015-01-01..2015-06-30
    assert {k: us[k] for k in CONTRACT} == {
        "name": "Furanylfentanyl",
        "inchikey": us["inchikey"],
        "jurisdiction": "US",
        "basis": "global",
        "start_date": "2015",
        "end_date": "2016-11-29",
        "lag_days": 608,
        "lag_days_min": 518,
        "lag_days_max": 698,
        "outcome": "individual",
    }
    assert (us["end_citation"], us["end_kind"], us["start_latest"]) == (
        "81 FR 85873",
        "temporary",
        "2015-06-30",
    )
    assert (by_j["CN"]["lag_days_min"], by_j["CN"]["lag_days"], by_j["CN"]["lag_days_max"]) == (
        610,
        700,
        790,
    )
    eu = by_j["EU"]
    assert (eu["outcome"], eu["end_date"], eu["lag_days"]) == ("censored", AS_OF, 1736)


def test_rows_local_and_filters(client: TestClient) -> None:
    body = client.get(
        "/lag", params={"as_of": AS_OF, "basis": "local", "jurisdiction": "US"}
    ).json()
    assert [
        (r["start_date"], r["lag_days_min"], r["lag_days"], r["lag_days_max"]) for r in body["data"]
    ] == [("2015", 334, 516, 698)]
    body = client.get("/lag", params={"as_of": AS_OF, "outcome": "censored"}).json()
    assert sorted(r["jurisdiction"] for r in body["data"]) == ["EU", "UK", "UN"]
    assert client.get("/lag", params={"family": "morphinan"}).json()["count"] == 0


def test_rows_bad_input_is_a_422(client: TestClient) -> None:
    r = client.get("/lag", params={"jurisdiction": "XX"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "jurisdiction"]
    assert client.get("/lag", params={"basis": "nowhere"}).status_code == 422
    assert client.get("/lag", params={"outcome": "maybe"}).status_code == 422
    assert client.get("/lag", params={"as_of": "2999-01-01"}).status_code == 422


def test_csv_by_accept_header_and_by_format(client: TestClient) -> None:
    for kwargs in (
        {"headers": {"Accept": "text/csv"}},
        {"params": {"format": "csv", "as_of": AS_OF}},
    ):
        params = {"as_of": AS_OF, **kwargs.get("params", {})}
        r = client.get("/lag", params=params, headers=kwargs.get("headers", {}))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert list(rows[0])[: len(CONTRACT)] == CONTRACT
        us = next(x for x in rows if x["jurisdiction"] == "US")
        assert (us["start_date"], us["end_date"], us["lag_days"], us["outcome"]) == (
            "2015",
            "2016-11-29",
            "608",
            "individual",
        )


def test_summary_curve_plot(client: TestClient) -> None:
    s = client.get("/lag/summary", params={"as_of": AS_OF}).json()
    assert (s["n_rows"], s["n_substances"], s["n_without_appearance"]) == (5, 1, 2)
    assert sorted(s["without_appearance"]) == ["butyrfentanyl", "u-47700"]
    assert set(s["groups"]) == {"jurisdiction", "family", "year", "class_law"}
    us = next(g for g in s["groups"]["jurisdiction"] if g["group"] == "US")
    assert (us["n"], us["n_censored"], us["observed_median_days"], us["km_median_days"]) == (
        1,
        0,
        608,
        608,
    )
    assert s["overall"]["n_censored"] == 3

    lr = client.get(
        "/lag/summary", params={"as_of": AS_OF, "group_by": "jurisdiction", "a": "US", "b": "EU"}
    ).json()
    assert lr["logrank"]["n_a"] == 1 and 0 <= lr["logrank"]["p_value"] <= 1
    assert list(lr["groups"]) == ["jurisdiction"]
    bad = client.get("/lag/summary", params={"group_by": "jurisdiction", "a": "US", "b": "ZZ"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "b"]
    assert client.get("/lag/summary", params={"a": "US", "b": "EU"}).status_code == 422

    c = client.get("/lag/curve", params={"as_of": AS_OF}).json()
    assert [g["group"] for g in c["data"]] == ["CN", "EU", "UK", "UN", "US"]
    eu = next(g for g in c["data"] if g["group"] == "EU")
    assert eu["censored_days"] == [1736] and eu["points"][-1]["survival"] == 1.0
    us = next(g for g in c["data"] if g["group"] == "US")
    assert [(p["days"], p["survival"]) for p in us["points"]] == [(0, 1.0), (608, 0.0)]

    p = client.get("/lag/plot.svg", params={"as_of": AS_OF, "group_by": "class_law"})
    assert p.status_code == 200 and p.headers["content-type"] == "image/svg+xml"
    assert "months since first appearance" in p.text and "share not yet controlled" in p.text


# ------------------------------------------------------------------ CLI

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, registry_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    service_environment(monkeypatch, service_database_url(tmp_path, "cli.db"))
    monkeypatch.setenv("ANALOGWATCH_SCHEDULES_DIR", str(registry_dir))
    get_settings.cache_clear()
    yield registry_dir
    get_settings.cache_clear()


def test_cli_json_contract(cli_env: Path) -> None:
    r = runner.invoke(cli_app, ["lag", "--jurisdiction", "US", "--as-of", AS_OF, "--json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert isinstance(data, list) and len(data) == 1
    assert {k: data[0][k] for k in CONTRACT} == {
        "name": "Furanylfentanyl",
        "inchikey": data[0]["inchikey"],
        "jurisdiction": "US",
        "basis": "global",
        "start_date": "2015",
        "end_date": "2016-11-29",
        "lag_days": 608,
        "lag_days_min": 518,
        "lag_days_max": 698,
        "outcome": "individual",
    }
    assert len(data[0]["inchikey"]) == 27


def test_cli_csv_table_and_errors(cli_env: Path) -> None:
    r = runner.invoke(cli_app, ["lag", "--as-of", AS_OF, "--csv", "--basis", "local"])
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert sorted(x["jurisdiction"] for x in rows) == ["EU", "UN", "US"]
    r = runner.invoke(cli_app, ["lag", "--as-of", AS_OF])
    assert r.exit_code == 0 and "2 NPS substances have no recorded appearance" in r.stdout
    r = runner.invoke(cli_app, ["lag", "--basis", "nowhere"])
    assert (
        r.exit_code == 2
        and r.stderr.strip() == "error: --basis: 'nowhere' is not one of global, local"
    )
    r = runner.invoke(cli_app, ["lag", "--jurisdiction", "ZZ"])
    assert r.exit_code == 2 and "unknown jurisdiction 'ZZ'" in r.stderr


def test_cli_summary_and_plot(cli_env: Path, tmp_path: Path) -> None:
    r = runner.invoke(cli_app, ["lag", "summary", "--as-of", AS_OF, "--json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["n_rows"], data["n_without_appearance"]) == (5, 2)
    r = runner.invoke(
        cli_app,
        ["lag", "summary", "--as-of", AS_OF, "--group-by", "jurisdiction", "--compare", "US", "EU"],
    )
    assert r.exit_code == 0 and "log-rank jurisdiction US vs EU" in r.stdout
    for name in ("curves.svg", "curves.png"):
        out = tmp_path / name
        r = runner.invoke(cli_app, ["lag", "plot", "--out", str(out), "--as-of", AS_OF])
        assert r.exit_code == 0, r.stderr
        assert out.stat().st_size > 1000
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
    r = runner.invoke(cli_app, ["lag", "plot", "--out", str(tmp_path / "x.gif")])
    assert r.exit_code == 2 and "--out: 'gif' is not one of svg, png" in r.stderr


def test_cli_analysis(cli_env: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs" / "lag.md"
    r = runner.invoke(
        cli_app,
        ["lag", "analysis", "--out", str(out), "--registry", str(cli_env), "--as-of", AS_OF],
    )
    assert r.exit_code == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    assert "as of **2020-01-01**" in text and "| US | 1 | 1 | 0 | 0 |" in text
    assert (tmp_path / "docs" / "lag.svg").is_file()
