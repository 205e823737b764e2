"""Shared pieces of the page tests (importable by bare name: pytest puts this folder on
sys.path for its conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
HOSTILE = '<script>alert("aw")</script> & "Co"'


class Tab:
    """A page that records console errors, page errors and failed requests."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        # net::ERR_ABORTED is the browser cancelling a request itself, e.g. the favicon of a page
        # it navigates away from; a server failure shows as an HTTP status or another net error
        page.on(
            "requestfailed",
            lambda r: r.failure != "net::ERR_ABORTED"
            and self.errors.append(f"request failed: {r.url} {r.failure}"),
        )
        page.on(
            "response",
            lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"),
        )

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path, wait_until="load")

    def screenshot(self, name: str) -> list[Path]:
        """Full-page screenshots at a laptop and a phone width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths = []
        for label, size in (("laptop", (1366, 800)), ("phone", (390, 844))):
            self.page.set_viewport_size({"width": size[0], "height": size[1]})
            # readable at this width: nothing wider than the window but scrollable tables
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{name} is {overflow}px wider than a {label} window"
            path = SCREENSHOTS / f"{name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        self.page.set_viewport_size({"width": 1366, "height": 800})
        return paths
