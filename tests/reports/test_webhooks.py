"""Webhooks: curators subscribe; each report reaches each subscriber once, signed, retried.

The receiver is a real HTTP server on loopback (allowed by the settings' allow-list); it
refuses the first two POSTs with 503, as a receiver that is down for a while would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ingestkit import KEY, settings_for
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from service.app import create_app
from service.config import Settings
from service.models import Report, WebhookDelivery, WebhookSubscription
from service.registry.loader import load_registry
from service.reports.service import run_lookalikes
from service.webhooks import service as webhooks

AUTH = {"X-API-Key": KEY}


class Receiver:
    """A loopback HTTP server that answers 503 to the first `down_for` POSTs, then 204."""

    def __init__(self, down_for: int = 0) -> None:
        self.down_for = down_for
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    code = 503 if len(outer.requests) < outer.down_for else 204
                    outer.requests.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body, code)
                    )
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[tuple[dict[str, str], bytes, int]]:
        return [r for r in self.requests if r[2] == 204]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(down_for=2)
    yield r
    r.close()


@pytest.fixture
def hooked(engine: Engine, registry_dir: Path) -> Iterator[tuple[TestClient, Settings]]:
    load_registry(engine, registry_dir)
    settings = settings_for(
        engine,
        registry_dir,
        webhook_allow_hosts=["127.0.0.1"],
        webhook_retry_seconds=[0.2],
        webhook_timeout_seconds=5.0,
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client, settings


def _run_report(client: TestClient, settings: Settings) -> int:
    app: Any = client.app
    report = run_lookalikes(
        app.state.engine, settings, trigger="test", index=app.state.index_holder.get
    )
    assert report.status == "succeeded", report.error
    assert report.id is not None
    return report.id


def _dispatch_until_done(engine: Engine, settings: Settings, holders: list[str]) -> None:
    """Run one dispatcher per holder in its own thread until nothing is pending."""
    stop = threading.Event()

    def loop(holder: str) -> None:
        for _ in range(60):
            if stop.is_set():
                return
            webhooks.dispatch_due(engine, settings, holder=holder)
            stop.wait(0.1)

    threads = [threading.Thread(target=loop, args=(h,)) for h in holders]
    for t in threads:
        t.start()
    for _ in range(100):
        with Session(engine) as session:
            pending = session.exec(
                select(WebhookDelivery).where(WebhookDelivery.status == "pending")
            ).all()
        if not pending:
            break
        stop.wait(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=30)


def test_subscriptions_need_the_curator_key(
    hooked: tuple[TestClient, Settings], receiver: Receiver
) -> None:
    client, _ = hooked
    assert client.post("/webhooks", json={"url": receiver.url}).status_code == 401
    assert client.get("/webhooks").status_code == 401
    assert (
        client.post(
            "/webhooks", json={"url": receiver.url}, headers={"X-API-Key": "x" * 20}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.0.0.7/hook", "private"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://localhost:9/hook", "loopback"),
        ("ftp://example.org/hook", "http://"),
        ("http://user:pw@example.org/hook", "user name"),
    ],
)
def test_unsafe_urls_are_refused(
    hooked: tuple[TestClient, Settings], url: str, reason: str
) -> None:
    client, _ = hooked
    r = client.post("/webhooks", json={"url": url}, headers=AUTH)
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "url"] and reason in detail["msg"]


def test_unknown_jurisdiction_is_refused(
    hooked: tuple[TestClient, Settings], receiver: Receiver
) -> None:
    client, _ = hooked
    r = client.post("/webhooks", json={"url": receiver.url, "jurisdictions": ["XX"]}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "jurisdictions"]


def test_a_receiver_down_twice_gets_each_report_once_signed(
    hooked: tuple[TestClient, Settings], receiver: Receiver, engine: Engine
) -> None:
    client, settings = hooked
    created = client.post(
        "/webhooks", json={"url": receiver.url, "jurisdictions": ["us"]}, headers=AUTH
    )
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_") and sub["jurisdictions"] == ["US"]
    assert "secret" not in client.get("/webhooks", headers=AUTH).json()[0]

    report_id = _run_report(client, settings)
    # two dispatchers, as two API workers would run them
    _dispatch_until_done(engine, settings, ["worker-a", "worker-b"])

    assert [code for _, _, code in receiver.requests] == [503, 503, 204]
    ((headers, body, _),) = receiver.accepted()
    data = Webhook(sub["secret"]).verify(body, headers)  # raises when the signature is wrong
    assert data["type"] == "report.published"
    assert data["data"]["report_id"] == report_id
    assert set(data["data"]["jurisdictions"]) == {"US"}
    # every attempt carries the same message id, so a receiver can deduplicate
    assert len({h["webhook-id"] for h, _, _ in receiver.requests}) == 1

    log = client.get(f"/webhooks/{sub['id']}/deliveries", headers=AUTH).json()
    assert len(log) == 1
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 3
    assert [a["status_code"] for a in log[0]["log"]] == [503, 503, 204]
    assert log[0]["log"][0]["error"] == "HTTP 503" and log[0]["log"][2]["error"] is None

    # queueing the same report again sends nothing; the next report is one more delivery
    with Session(engine) as session:
        stored = session.get(Report, report_id)
        assert stored is not None
        assert webhooks.enqueue(engine, stored) == 0
    _run_report(client, settings)
    _dispatch_until_done(engine, settings, ["worker-a", "worker-b"])
    assert len(receiver.accepted()) == 2
    assert len(client.get(f"/webhooks/{sub['id']}/deliveries", headers=AUTH).json()) == 2


def test_unsubscribing_removes_the_log(
    hooked: tuple[TestClient, Settings], receiver: Receiver
) -> None:
    client, _ = hooked
    sub = client.post("/webhooks", json={"url": receiver.url}, headers=AUTH).json()
    assert client.delete(f"/webhooks/{sub['id']}", headers=AUTH).status_code == 204
    assert client.get(f"/webhooks/{sub['id']}/deliveries", headers=AUTH).status_code == 404
    assert client.delete(f"/webhooks/{sub['id']}", headers=AUTH).status_code == 404


def test_min_signal_filters_the_listed_compounds(hooked: tuple[TestClient, Settings]) -> None:
    report = Report(
        kind="lookalikes",
        status="succeeded",
        as_of=date(2026, 1, 1),
        summary={"jurisdictions": {"US": {"rows": 2, "new": 2, "resolved": 0}}},
        results={
            "jurisdictions": {
                "US": {
                    "rows": [
                        {
                            "name": "a",
                            "inchikey": "A",
                            "smiles": "C",
                            "reasons": ["similarity"],
                            "max_similarity": 0.9,
                            "new_since_previous": True,
                            "neighbors": [{"name": "x"}],
                        },
                        {
                            "name": "b",
                            "inchikey": "B",
                            "smiles": "CC",
                            "reasons": ["similarity"],
                            "max_similarity": 0.5,
                            "new_since_previous": True,
                            "neighbors": [],
                        },
                        {
                            "name": "c",
                            "inchikey": "C",
                            "smiles": "CCC",
                            "reasons": ["controlled_elsewhere"],
                            "max_similarity": 0.1,
                            "new_since_previous": True,
                            "neighbors": [],
                        },
                    ]
                }
            }
        },
    )
    report.id = 1
    sub = WebhookSubscription(url="http://x", jurisdictions=None, min_signal=0.6, secret="whsec_AA")
    data = webhooks.payload(report, sub)["data"]["jurisdictions"]["US"]
    assert [r["name"] for r in data["new"]] == ["a", "c"]
    assert data["at_or_above_min_signal"] == 2 and data["rows"] == 2
