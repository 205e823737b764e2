"""The reports API: JSON, CSV and HTML renderings, the latest report, and running one on demand."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ingestkit import AUTH, GOOD_CSV, ORTHO_FLUOROFENTANYL, client_for
from sqlalchemy.engine import Engine

from service.reports.service import CSV_COLUMNS

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def client(engine: Engine, registry_dir: Path) -> TestClient:
    with client_for(engine, registry_dir) as c:
        r = c.post(
            "/appearances/import",
            files={"file": ("r.csv", GOOD_CSV.encode(), "text/csv")},
            headers=AUTH,
        )
        assert r.status_code == 200, r.text
        yield c  # type: ignore[misc]


def test_no_report_yet(client: TestClient) -> None:
    assert client.get("/reports/latest").status_code == 404
    assert client.get("/reports/12345").status_code == 404
    assert client.get("/reports").json() == {"count": 0, "data": []}


def test_ids_beyond_the_integer_column_are_refused_not_queried(client: TestClient) -> None:
    """PostgreSQL ids are 32-bit: a larger one must be a clear 422, never a database error."""
    assert client.get("/reports/2147483647").status_code == 404
    r = client.get("/reports/2147483648")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "report_id"]
    assert client.get("/reports-page/99999999999").status_code == 404


def test_run_then_read_in_every_format(client: TestClient) -> None:
    run = client.post("/reports/run", headers=AUTH)
    assert run.status_code == 201, run.text
    report = run.json()
    assert report["status"] == "succeeded" and report["trigger"] == "api"
    assert [r["name"] for r in report["jurisdictions"]["US"]["rows"]] == [
        "Acetylfentanyl",
        "U-49900",
    ]
    assert report["parameters"]["fingerprint"] == {"kind": "morgan", "radius": 2, "bits": 2048}
    rid = report["id"]
    assert client.get("/reports/latest").json()["id"] == rid
    assert client.get(f"/reports/{rid}").json() == report
    listed = client.get("/reports").json()
    assert listed["count"] == 1 and "jurisdictions" not in listed["data"][0]
    assert listed["data"][0]["summary"]["jurisdictions"]["CN"] == {
        "rows": 2,
        "new": 2,
        "resolved": 0,
    }

    as_csv = client.get(f"/reports/{rid}", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    us = [r for r in rows if r["jurisdiction"] == "US"]
    assert [(r["rank"], r["name"], r["reason"]) for r in us] == [
        ("1", "Acetylfentanyl", "similarity, similar_elsewhere, shares_scaffold"),
        ("2", "U-49900", "similarity, similar_elsewhere, contains_controlled"),
    ]
    assert us[0]["neighbors"].startswith("Fentanyl (0.77); Butyryl fentanyl (0.74)")
    by_accept = client.get("/reports/latest", headers={"Accept": "text/csv"})
    assert by_accept.text == as_csv.text

    page = client.get(f"/reports/{rid}", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html")
    total_rows = sum(len(s["rows"]) for s in report["jurisdictions"].values())
    assert page.text.count("<svg") == total_rows
    assert "Acetylfentanyl" in page.text
    # the containment warning names what U-49900 holds whole and where that is controlled
    assert "contains U-47700 whole, controlled in CN, US (contained whole in the query" in page.text
    # and the scaffold warning what acetylfentanyl carries (the fentanyls listed in the US)
    assert "carries the scaffold of " in page.text
    assert "carries the scaffold of Fentanyl, controlled in US (shares its scaffold: 21 of" in page.text
    assert client.get(f"/reports/{rid}", params={"format": "html"}).text == page.text


def test_names_are_escaped_in_html_and_csv(client: TestClient) -> None:
    body = {
        "structure": ORTHO_FLUOROFENTANYL,
        "name": EVIL,
        "date": "2025-10",
        "place": "US",
        "reporter_type": "national_forensic",
        "source": "https://example.org/x",
    }
    assert client.post("/appearances", json=body, headers=AUTH).status_code == 201
    formula = {
        **body,
        "structure": "CCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
        "name": '=HYPERLINK("http://x")',
    }
    assert client.post("/appearances", json=formula, headers=AUTH).status_code == 201
    rid = client.post("/reports/run", headers=AUTH).json()["id"]
    page = client.get(f"/reports/{rid}", params={"format": "html"}).text
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = client.get(f"/reports/{rid}", params={"format": "csv"}).text
    names = {r["name"] for r in csv.DictReader(io.StringIO(text))}
    assert '\'=HYPERLINK("http://x")' in names
    assert EVIL in names  # CSV carries the name as data


def test_a_failed_run_is_listed_and_the_latest_stays(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.reports import service

    good = client.post("/reports/run", headers=AUTH).json()["id"]

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(service, "build_lookalikes", boom)
    failed = client.post("/reports/run", headers=AUTH)
    assert failed.status_code == 500
    assert (
        failed.json()["status"] == "failed"
        and failed.json()["error"] == "RuntimeError: out of memory"
    )
    assert client.get("/reports/latest").json()["id"] == good
    assert [r["status"] for r in client.get("/reports").json()["data"]] == ["failed", "succeeded"]
    page = client.get(f"/reports/{failed.json()['id']}", params={"format": "html"})
    assert "This run failed: RuntimeError: out of memory" in page.text
