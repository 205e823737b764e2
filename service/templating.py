"""Jinja2 environments for the documents the service writes as Markdown (analyses, notes)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined


def markdown_templates(package: str) -> Environment:
    """The templates of a package's ``templates/`` folder, rendered as Markdown: no HTML
    escaping, an error on any undefined name, block tags leaving no blank lines."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=False,  # noqa: S701 - Markdown, not HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
