"""Ingest through the API: the curator key on every write, validation first, idempotent imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ingestkit import (
    ACETYLFENTANYL,
    AUTH,
    GOOD_CSV,
    HEADER,
    KEY,
    OTHER_KEY,
    client_for,
    counts,
)
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.models import Appearance, Substance
from service.registry.loader import load_registry

ONE = {
    "structure": ACETYLFENTANYL,
    "name": "Acetylfentanyl",
    "date": "2015-03",
    "place": "EU",
    "reporter_type": "eu_ews",
    "reporter": "EMCDDA",
    "source": "https://www.emcdda.europa.eu/publications/risk-assessments/acetylfentanyl_en",
}

WRITES = [
    ("post", "/appearances", {"json": ONE}),
    ("post", "/appearances/import", {"files": {"file": ("r.csv", GOOD_CSV.encode(), "text/csv")}}),
    ("post", "/reports/run", {}),
]


@pytest.fixture
def client(engine: Engine, registry_dir: Path) -> TestClient:
    with client_for(engine, registry_dir) as c:
        yield c  # type: ignore[misc]


@pytest.mark.parametrize(("method", "path", "kwargs"), WRITES, ids=[w[1] for w in WRITES])
def test_write_routes_need_a_curator_key(
    client: TestClient, engine: Engine, method: str, path: str, kwargs: dict
) -> None:
    before = counts(engine)
    missing = getattr(client, method)(path, **kwargs)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "APIKey"
    for wrong in ("wrong-key-0123456789abcdef", KEY[:-1], KEY + "x", ""):
        r = getattr(client, method)(path, headers={"X-API-Key": wrong}, **kwargs)
        assert r.status_code == (401 if wrong == "" else 403), wrong
        assert wrong not in r.text or wrong == ""
    assert counts(engine) == before  # nothing changed
    ok = getattr(client, method)(
        path, headers={"X-API-Key": OTHER_KEY}, **kwargs
    )  # every key works
    assert ok.status_code in (200, 201), ok.text


def test_new_structure_becomes_a_reported_substance_with_verdicts(
    client: TestClient, engine: Engine
) -> None:
    r = client.post("/appearances", json=ONE, headers=AUTH)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] is True and body["new_substance"] is True
    sub = body["appearance"]["substance"]
    assert sub["inchikey"] == "FYIUUQUPOKIKNI-UHFFFAOYSA-N"
    assert sub["key"] == "fyiuuqupokikni-uhfffaoysa-n"
    assert (sub["origin"], sub["family"], sub["name"]) == ("api", "other", "Acetylfentanyl")
    assert body["appearance"]["date"] == "2015-03"
    verdicts = {v["jurisdiction"]: v for v in body["appearance"]["verdicts"]}
    assert set(verdicts) == {"US", "UN", "CN", "EU", "UK"}
    assert verdicts["US"]["status"] == "lookalike"
    # similar to fentanyl, controlled in the US itself and (similar_elsewhere) in others, and
    # it carries the fentanyls' scaffold (shares_scaffold)
    assert verdicts["US"]["reasons"] == ["similarity", "similar_elsewhere", "shares_scaffold"]
    assert verdicts["US"]["neighbors"][0] == {
        "name": "Fentanyl",
        "inchikey": "PJMPHNIQZUBGLI-UHFFFAOYSA-N",
        "similarity": 0.7727,
    }
    # the test registry lists no fentanyl under the UN: the warning is that it resembles a
    # substance another jurisdiction controls
    assert (verdicts["UN"]["status"], verdicts["UN"]["reasons"]) == (
        "lookalike",
        ["similar_elsewhere", "shares_scaffold"],
    )
    with Session(engine) as session:
        stored = session.execute(
            select(Substance).where(Substance.inchikey == sub["inchikey"])
        ).scalar_one()
        assert stored.nps is True and stored.origin == "api"
        app = session.execute(
            select(Appearance).where(Appearance.substance_id == stored.id)
        ).scalar_one()
        assert app.origin == "api" and app.reported_precision == "month"
        assert app.verdicts is not None and app.verdicts[0]["as_of"]
    # the index sees the new substance at once: a check by name finds it
    found = client.post(
        "/check", json={"structure": "Acetylfentanyl", "jurisdictions": ["US"]}
    ).json()
    assert found["registry_substance"]["inchikey"] == "FYIUUQUPOKIKNI-UHFFFAOYSA-N"
    # the same report again changes nothing
    again = client.post("/appearances", json=ONE, headers=AUTH)
    assert again.status_code == 200
    assert again.json()["created"] is False
    listed = client.get("/appearances", params={"origin": "api"}).json()
    assert listed["count"] == 1
    assert listed["data"][0]["verdicts"][0]["jurisdiction"] in verdicts


def test_known_substance_by_name(client: TestClient) -> None:
    body = {**ONE, "structure": None, "name": "Fu-F", "place": "SE", "date": "2016-01-05"}
    r = client.post("/appearances", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["new_substance"] is False
    assert r.json()["appearance"]["substance"]["name"] == "Furanylfentanyl"
    assert r.json()["appearance"]["reported_precision"] == "day"


def test_bad_appearance_names_every_field(client: TestClient, engine: Engine) -> None:
    before = counts(engine)
    body = {**ONE, "structure": "C1CC(", "date": "2015-13", "place": "Europe", "name": "Fentanyl"}
    r = client.post("/appearances", json=body, headers=AUTH)
    assert r.status_code == 422
    locs = {tuple(d["loc"]): d["msg"] for d in r.json()["detail"]}
    assert set(locs) == {("body", "structure"), ("body", "date"), ("body", "place")}
    assert "month 13 does not exist" in locs[("body", "date")]
    # a structure named like a registry substance with another structure is refused
    clash = client.post("/appearances", json={**ONE, "name": "Fentanyl"}, headers=AUTH)
    assert clash.status_code == 422
    assert clash.json()["detail"][0]["loc"] == ["body", "name"]
    unknown = client.post("/appearances", json={**ONE, "reporter_type": "rumour"}, headers=AUTH)
    assert unknown.status_code == 422
    assert counts(engine) == before


def test_import_then_import_again_adds_nothing(client: TestClient, engine: Engine) -> None:
    before = counts(engine)
    upload = {"file": ("reports.csv", GOOD_CSV.encode(), "text/csv")}
    first = client.post("/appearances/import", files=upload, headers=AUTH)
    assert first.status_code == 200, first.text
    assert first.json() == {"rows": 4, "inserted": 4, "unchanged": 0, "new_substances": 3}
    after_first = counts(engine)
    assert after_first["substances"] == before["substances"] + 3
    assert after_first["appearances"] == before["appearances"] + 4
    second = client.post("/appearances/import", files=upload, headers=AUTH)
    assert second.json() == {"rows": 4, "inserted": 0, "unchanged": 4, "new_substances": 0}
    assert counts(engine) == after_first


def test_bad_import_reports_every_problem_and_changes_nothing(
    client: TestClient, engine: Engine
) -> None:
    before = counts(engine)
    bad = f"""{HEADER}
{ACETYLFENTANYL},Acetylfentanyl,2015-03,EU,eu_ews,EMCDDA,https://example.org/ok,
C1CC(,Broken,2016,EU,eu_ews,,https://example.org/a,
{ACETYLFENTANYL},Acetylfentanyl,2015-03,EU,eu_ews,EMCDDA,https://example.org/dup,
,No Such Drug,2016,EU,eu_ews,,https://example.org/b,
CCO,Ethanol,2016-02-30,Mars,gossip,,,
"""
    r = client.post(
        "/appearances/import", files={"file": ("bad.csv", bad.encode(), "text/csv")}, headers=AUTH
    )
    assert r.status_code == 422
    found = sorted((d["loc"][2], d["loc"][3]) for d in r.json()["detail"])
    assert found == [
        (3, "structure"),
        (4, "date"),
        (5, "name"),
        (6, "date"),
        (6, "place"),
        (6, "reporter_type"),
        (6, "source"),
    ]
    assert all(d["loc"][:2] == ["body", "file"] for d in r.json()["detail"])
    assert counts(engine) == before


def test_import_sdf(client: TestClient, engine: Engine) -> None:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(ACETYLFENTANYL)
    mol.SetProp("_Name", "Acetylfentanyl")
    for k, v in {
        "date": "2015-03",
        "place": "EU",
        "reporter_type": "eu_ews",
        "source": "https://www.emcdda.europa.eu/publications/risk-assessments/acetylfentanyl_en",
        "vendor_id": "ignored",
    }.items():
        mol.SetProp(k, v)
    sdf = (
        Chem.MolToMolBlock(mol)
        + "".join(f">  <{p}>\n{mol.GetProp(p)}\n\n" for p in mol.GetPropNames())
        + "$$$$\n"
    )
    r = client.post(
        "/appearances/import",
        files={"file": ("one.sdf", sdf.encode(), "chemical/x-mdl-sdfile")},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 1
    assert (
        client.get("/appearances", params={"origin": "api"}).json()["data"][0]["substance"]["name"]
        == "Acetylfentanyl"
    )
    no_date = sdf.replace(">  <date>\n2015-03\n\n", "")
    r = client.post(
        "/appearances/import",
        files={"file": ("two.sdf", no_date.encode(), "chemical/x-mdl-sdfile")},
        headers=AUTH,
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "file", 1, "date"]


def test_wrong_file_type_is_refused(client: TestClient) -> None:
    r = client.post(
        "/appearances/import",
        files={"file": ("x.xlsx", b"PK", "application/octet-stream")},
        headers=AUTH,
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "file", 0, "file"]


def test_registry_reload_keeps_ingested_rows(
    client: TestClient, engine: Engine, registry_dir: Path
) -> None:
    client.post(
        "/appearances/import",
        files={"file": ("r.csv", GOOD_CSV.encode(), "text/csv")},
        headers=AUTH,
    )
    before = counts(engine)
    load_registry(engine, registry_dir, force=True)
    assert counts(engine) == before


def test_a_substance_id_past_the_id_range_is_a_422(client: TestClient) -> None:
    r = client.get("/appearances", params={"substance_id": 2**63, "limit": 1})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "substance_id"]
    assert client.get("/appearances", params={"substance_id": 2**31 - 1}).json()["count"] == 0
