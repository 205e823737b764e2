"""The HTML page of a report: a Jinja2 template shipped in the package, every text escaped."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from service.chem import depict
from service.chem.errors import StructureError
from service.chem.standardize import parse_smiles
from service.models import Report
from service.reports.service import report_public


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("service.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=2048)
def structure_svg(smiles: str) -> Markup:
    """The structure as inline SVG (RDKit draws atom labels only, no caller text), or nothing."""
    try:
        mol = parse_smiles(smiles)
    except StructureError:
        return Markup("")
    svg = depict.svg(mol, width=240, height=180)
    # drop the XML declaration: the SVG goes inline into HTML
    return Markup(svg.split("?>", 1)[-1].strip())  # noqa: S704  (RDKit output, no caller text)


def report_html(report: Report) -> str:
    """Render a stored report as one HTML page with a structure picture per row."""
    data: dict[str, Any] = report_public(report)
    return _environment().get_template("report.html").render(report=data, svg=structure_svg)
