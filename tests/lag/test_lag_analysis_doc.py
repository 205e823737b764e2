"""The lag analysis document renders from its Jinja2 template with the figures of the rows."""

from __future__ import annotations

from datetime import date
from importlib.resources import files

import pytest
from jinja2 import UndefinedError
from lagkit import act, appearance, frs_class, snapshot, substance

from service.lag import analysis

AS_OF = date(2020, 1, 1)


def _doc() -> str:
    # controlled in the US a year after its June 2016 report; never in CN; a class law from 2018
    acryl = substance(
        "acrylfentanyl",
        appearances=(appearance("2016-06-15"),),
        acts={"US": (act("permanent", "2017-06-15", citation="82 FR 1"),)},
    )
    snap = snapshot([acryl], [frs_class("US", (act("temporary", "2018-02-06", "2020-02-06"),))])
    return analysis.write_analysis(snap, as_of=AS_OF, figure="lag.svg")


def test_the_document_carries_the_rows_figures() -> None:
    doc = _doc()
    assert doc.startswith(
        "# Scheduling lag: how long from first appearance to control\n\n_Generated"
    )
    assert "(digest `test`), as of **2020-01-01**." in doc
    assert "* 1 substances have a recorded first appearance; they give " in doc
    assert "* Class-wide definitions in force: US from 2018-02-06.\n" in doc
    assert "![Kaplan-Meier curves of time to control per jurisdiction](lag.svg)\n\n" in doc
    assert "One month = 30.44 days." in doc
    assert "## Still uncontrolled as of 2020-01-01\n\n" in doc
    # the same ending as the hand-built document had: the last caveat, then a blank line
    assert doc.endswith("a log-rank p-value is a description, not proof.\n\n")
    assert "{{" not in doc and "{%" not in doc


def test_tables_end_where_the_next_paragraph_begins() -> None:
    doc = _doc()
    head = "| jurisdiction | n | controlled |"
    start = doc.index(head)
    table = doc[start : doc.index("\n\n", start)].splitlines()
    assert table[1] == "|---|---:|---:|---:|---:|---:|---:|---|---|"
    assert all(line.startswith("| ") for line in table[2:])
    assert doc[doc.index("\n\n", start) :].startswith("\n\nLocal basis")


def test_the_template_ships_in_the_package() -> None:
    template = files("service.lag") / "templates" / "lag-analysis.md.j2"
    assert template.is_file()


def test_a_missing_figure_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        analysis._TEMPLATES.get_template("lag-analysis.md.j2").render({"as_of": AS_OF})
