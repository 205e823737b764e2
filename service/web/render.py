"""Templates (autoescaped), the pages' security headers, and input errors shown on a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from service import __version__
from service.check.verdict import SCOPE
from service.web.pages import STATUS_LABELS, source_urls

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# no script anywhere; images are our own or data: URIs (drawn structures); styles from /static
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every name and identifier is escaped; only RDKit's SVG is not text
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(
    status_label=STATUS_LABELS.get, source_urls=source_urls, version=__version__, scope_note=SCOPE
)
templates = Jinja2Templates(env=_env)


class PageInputError(Exception):
    """A value on a page's form cannot be used: shown above the form, never as a trace."""

    def __init__(
        self, field: str, reason: str, status_code: int = 422, *, retry_after: int | None = None
    ) -> None:
        super().__init__(reason)
        self.field, self.reason, self.status_code = field, reason, status_code
        self.retry_after = retry_after


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a template with the security headers."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, title: str, message: str, status_code: int) -> HTMLResponse:
    """A page that says what went wrong, and nothing about the code."""
    return page(request, "error.html", {"title": title, "message": message}, status_code)


def download(content: str | bytes, media_type: str, filename: str | None = None) -> Response:
    """A CSV or SVG response with nosniff, as an attachment when a file name is given."""
    headers = dict(SECURITY_HEADERS)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(content=content, media_type=media_type, headers=headers)
