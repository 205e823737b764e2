"""Request bounds: body size (413), rate limits (429 + Retry-After), CORS off by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings


@pytest.fixture
def client(tmp_path: Path, registry_dir: Path) -> Iterator[TestClient]:
    settings = service_settings(
        service_database_url(tmp_path, "l.db"),
        schedules_dir=registry_dir,
        max_body_bytes=4096,
        rate_limit_batch="3/minute",
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_declared_body_over_the_limit_is_413(client: TestClient) -> None:
    r = client.post("/check", json={"structure": "C" * 5000})
    assert r.status_code == 413
    assert r.json() == {"detail": "request body is larger than 4096 bytes"}


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"structure": "'
        for _ in range(10):
            yield b"C" * 1000
        yield b'"}'

    r = client.post("/check", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_batch_rate_limit_is_429_with_retry_after(client: TestClient) -> None:
    body = {"items": [{"structure": "CCO"}]}
    codes = [client.post("/check/batch", json=body).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.post("/check/batch", json=body)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["detail"].startswith("rate limit 3/minute exceeded")
    # another client (by API key) has its own budget; single checks are not limited
    assert (
        client.post("/check/batch", json=body, headers={"X-API-Key": "k" * 20}).status_code == 200
    )
    assert client.post("/check", json={"structure": "CCO"}).status_code == 200


def test_cors_is_off_unless_configured(
    client: TestClient, tmp_path: Path, registry_dir: Path
) -> None:
    pre = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    r = client.options("/check", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    settings = service_settings(
        service_database_url(tmp_path, "c.db"),
        schedules_dir=registry_dir,
        cors_origins=["https://example.org"],
    )
    with TestClient(create_app(settings)) as c:
        r = c.options("/check", headers=pre)
        assert r.headers["access-control-allow-origin"] == "https://example.org"


def test_bad_rate_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a rate like 60/minute"):
        Settings(rate_limit_batch="lots")
