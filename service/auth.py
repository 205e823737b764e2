"""The curator API key: required on every write route, in the `X-API-Key` header.

Keys come from the settings (`ANALOGWATCH_CURATOR_API_KEYS`). A request without the header
gets 401, one with a key that matches none gets 403; the comparison runs in constant time
against every configured key, and the key is never logged or echoed.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from service.config import Settings

HEADER = "X-API-Key"

_api_key = APIKeyHeader(
    name=HEADER,
    auto_error=False,
    description="curator API key (ANALOGWATCH_CURATOR_API_KEYS); needed by every write route",
)


def key_matches(given: str, settings: Settings) -> bool:
    """True when `given` equals a configured curator key (constant time, every key compared)."""
    presented = given.encode("utf-8")
    found = False
    for key in settings.curator_api_keys:
        found |= hmac.compare_digest(presented, key.get_secret_value().encode("utf-8"))
    return found


async def require_curator(
    request: Request, api_key: Annotated[str | None, Security(_api_key)] = None
) -> None:
    """Let the request through only with a valid curator key: 401 without one, 403 when wrong."""
    if not api_key:
        raise HTTPException(
            status_code=401,
            detail=f"a curator API key is required in the {HEADER} header",
            headers={"WWW-Authenticate": "APIKey"},
        )
    settings: Settings = request.app.state.settings
    if not key_matches(api_key, settings):
        raise HTTPException(status_code=403, detail="the API key is not a curator key")


CuratorDep = Annotated[None, Depends(require_curator)]
