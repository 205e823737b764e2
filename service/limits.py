"""Request bounds: body size (413) and rate limits on expensive routes (429 + Retry-After).

Rate limits use the `limits` library's moving window, in memory per application (one per
worker process): with N
workers a client gets at most N times the limit, which is stated in the README. Clients are
told apart by a hash of their API key when they send one, else by their address.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from service.errors import AnalogwatchError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodySizeLimit:
    """ASGI middleware: refuse bodies over `max_bytes` with 413, whether or not they declare
    a Content-Length (chunked bodies are counted as they arrive)."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # answer now; the app sees the client go away and its reply is dropped
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body is larger than {self.max_bytes} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RateLimited(AnalogwatchError):
    """Too many requests from one client for an expensive route."""

    status_code = 429

    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(f"rate limit {limit} exceeded; retry in {retry_after} s")
        self.retry_after = retry_after


def new_limiter() -> MovingWindowRateLimiter:
    """A limiter with its own in-memory counters (one per application instance)."""
    return MovingWindowRateLimiter(MemoryStorage())


def client_key(request: Request) -> str:
    """Who is asking: a hash of the API key if one is sent, else the client address."""
    key = request.headers.get("x-api-key")
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "addr:" + (request.client.host if request.client else "unknown")


def rate_limit(route: str, setting: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency enforcing the limit named by a settings field (e.g. "60/minute")."""

    async def dependency(request: Request) -> None:
        spec: str = getattr(request.app.state.settings, setting)
        if not spec:
            return
        item = parse(spec)
        ident = client_key(request)
        limiter: MovingWindowRateLimiter = request.app.state.limiter
        if not limiter.hit(item, route, ident):
            reset, _remaining = limiter.get_window_stats(item, route, ident)
            raise RateLimited(max(1, math.ceil(reset - time.time())), spec)

    return dependency
