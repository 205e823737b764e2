"""Fixtures of the page tests: the real registry behind TestClient, a registry with a
hostile name, and (for the browser tests) the service on a loopback port with Chromium."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient
from webkit import HOSTILE, Tab

from service.app import create_app
from service.config import Settings
from service.paths import schedules_dir

FIXTURES = Path(__file__).parent.parent / "fixtures"
REQUIRE_BROWSER = os.environ.get("ANALOGWATCH_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def web_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a fresh test database holding the real registry."""
    url = service_database_url(tmp_path_factory.mktemp("web"), "registry.db")
    # no rate limit here: the many checks of these tests are one client; tested on its own
    settings = service_settings(url, schedules_dir=schedules_dir(), rate_limit_batch="")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The small test registry with morphine renamed to a script tag (and a hostile synonym)."""
    root = tmp_path_factory.mktemp("hostile")
    reg = root / "schedules"
    shutil.copytree(FIXTURES / "registry", reg)
    path = reg / "substances" / "opioids.csv"
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames or [], list(reader)
    for row in rows:
        if row["key"] == "morphine":
            row["name"] = HOSTILE
            row["synonyms"] = "<img src=x onerror=alert(1)>"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    settings = service_settings(
        service_database_url(root, "h.db"), schedules_dir=reg, rate_limit_batch=""
    )
    with TestClient(create_app(settings)) as client:
        yield client


# --------------------------------------------------------------------------- browser


def chromium_path() -> str | None:
    """The system Chromium (ANALOGWATCH_CHROMIUM, or chromium on the PATH)."""
    explicit = os.environ.get("ANALOGWATCH_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"browser tests required (ANALOGWATCH_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"{reason}; install Debian's chromium (CI sets ANALOGWATCH_REQUIRE_BROWSER=1)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on a free loopback port (uvicorn in a thread), real registry, fresh database."""
    import uvicorn

    url = service_database_url(tmp_path_factory.mktemp("live"), "live.db")
    settings = service_settings(url, schedules_dir=schedules_dir(), rate_limit_batch="")
    port = _free_port()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the service did not start")
        time.sleep(0.05)
    _run_report(app, settings)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _run_report(app: Any, settings: Settings) -> None:
    """Store one lookalike report, when this version of the service has reports."""
    try:
        from service.reports.service import run_lookalikes
    except ImportError:
        return
    report = run_lookalikes(
        app.state.engine, settings, trigger="test", index=app.state.index_holder.get
    )
    assert report.status == "succeeded", report.error


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session, driven by Playwright."""
    exe = chromium_path()
    if exe is None:
        where = os.environ.get("ANALOGWATCH_CHROMIUM") or "chromium on the PATH"
        _skip_or_fail(f"no Chromium found ({where})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright for Python is not installed (pip install '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def tab(browser: Any, live_url: str) -> Iterator[Tab]:
    """A fresh browser context and page on the live service (contexts are cheap, browsers not)."""
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)  # the backtest page computes for seconds on first load
    yield Tab(page, live_url)
    context.close()
