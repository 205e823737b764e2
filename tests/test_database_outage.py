"""The database goes away and comes back: /health and the API say so with 503s, then recover
by themselves. PostgreSQL is reached through a TCP relay the test can cut."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service import migrate
from service.app import create_app
from service.config import Settings


class Relay:
    """Forward a local port to PostgreSQL; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.sockets: list[socket.socket] = []
        self.listener.listen(32)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()

    def restore(self) -> None:
        self.up = True


@pytest.fixture
def relayed(pg_database: str) -> Iterator[tuple[str, Relay]]:
    migrate.upgrade(pg_database)
    relay = Relay(("127.0.0.1", 5432))
    url = pg_database.replace("@127.0.0.1:5432/", f"@127.0.0.1:{relay.port}/")
    yield url, relay
    relay.cut()
    relay.listener.close()


@pytest.mark.postgres
def test_outage_is_a_503_and_recovery_is_automatic(relayed: tuple[str, Relay], registry_dir: Path) -> None:
    url, relay = relayed
    settings = Settings(database_url=url, schedules_dir=registry_dir, index_refresh_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/registry/stats").status_code == 200

        relay.cut()
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert health.json()["database"].startswith("unreachable")
        stats = client.get("/registry/stats")
        assert stats.status_code == 503
        assert stats.json()["detail"].startswith("database unavailable")
        assert stats.headers["Retry-After"] == "5"
        # checks keep working from the in-memory index built before the outage
        check = client.post("/check", json={"structure": "U-47700", "jurisdictions": ["US"]})
        assert check.status_code == 200
        assert check.json()["verdicts"][0]["status"] == "controlled"

        relay.restore()
        deadline = time.monotonic() + 15
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, "did not recover"
            time.sleep(0.2)
        assert client.get("/registry/stats").status_code == 200
