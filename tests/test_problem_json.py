"""Errors answer RFC 9457 problem details when asked (`Accept: application/problem+json`);
without that header they keep FastAPI's `{"detail": ...}` shape, which clients rely on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ingestkit import client_for
from sqlalchemy.engine import Engine

PROBLEM = {"Accept": "application/problem+json"}


@pytest.fixture
def client(engine: Engine, registry_dir: Path) -> Iterator[TestClient]:
    with client_for(engine, registry_dir) as c:
        yield c


def test_a_field_error_names_the_field_in_both_shapes(client: TestClient) -> None:
    body = {"structure": "CCO", "jurisdictions": ["XX"]}
    plain = client.post("/check", json=body)
    assert plain.status_code == 422 and plain.headers["content-type"] == "application/json"
    assert plain.json()["detail"][0]["loc"] == ["body", "jurisdictions"]
    problem = client.post("/check", json=body, headers=PROBLEM)
    assert problem.status_code == 422
    assert problem.headers["content-type"] == "application/problem+json"
    data = problem.json()
    assert (data["type"], data["title"], data["status"]) == (
        "about:blank",
        "Unprocessable Entity",
        422,
    )
    assert data["instance"] == "/check"
    assert data["errors"] == plain.json()["detail"]
    assert data["detail"].startswith("body.jurisdictions: unknown jurisdiction 'XX'")


def test_a_malformed_request_is_a_problem_too(client: TestClient) -> None:
    r = client.post("/check", json={"structur": "CCO"}, headers=PROBLEM)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["loc"][-1] == "structure" for e in r.json()["errors"])


def test_not_found_and_auth_errors(client: TestClient) -> None:
    r = client.get("/reports/999999", headers=PROBLEM)
    assert r.status_code == 404 and r.json()["status"] == 404 and r.json()["title"] == "Not Found"
    assert client.get("/reports/999999").json() == {"detail": r.json()["detail"]}
    r = client.post("/reports/run", headers=PROBLEM)
    assert r.status_code == 401 and r.json()["detail"].startswith("a curator API key is required")
    assert r.headers["www-authenticate"] == "APIKey"
