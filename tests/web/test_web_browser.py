"""The pages in a real Chromium (Playwright, the system browser): they load without console
errors, search, check and the lag filters work, and screenshots are saved for review.

Skipped with the reason printed when no Chromium is installed; CI sets
ANALOGWATCH_REQUIRE_BROWSER=1, which turns the skip into a failure.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from webkit import Tab

HEXANOYL = (
    "CCCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"  # not listed; the US fentanyl class covers it
)
U47700 = "CN(C)C1CCCCC1N(C)C(=O)c1ccc(Cl)c(Cl)c1"


def _u47700_path(tab: Tab) -> str:
    tab.goto("/?q=U-47700")
    href = tab.page.get_by_role("link", name="U-47700", exact=True).first.get_attribute("href")
    assert href is not None and re.fullmatch(r"/s/\d+", href)
    return href


def _images_loaded(page: Any) -> None:
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })"
    )
    page.wait_for_load_state("networkidle")
    # poll with evaluate: wait_for_function would eval a string, which the page's CSP forbids
    for _ in range(100):
        if page.evaluate("Array.from(document.images).every(i => i.complete)"):
            break
        page.wait_for_timeout(50)
    broken = page.evaluate(
        "Array.from(document.images)"
        ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)"
    )
    assert broken == []


@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [
        ("search", "/?q=fentanyl", "Search the watchlist"),
        ("substance", None, "U-47700"),
        (
            "check",
            f"/check-page?structures={HEXANOYL}+hexanoyl%0AC1CC(&as_of=2025-01-01",
            "Check structures",
        ),
        ("lag", "/lag-page", "How long does scheduling take?"),
        ("reports", "/reports-page", "Reports"),
        ("backtest", "/backtest-page", "Backtest"),
    ],
)
def test_page_loads_without_console_errors(
    tab: Tab, name: str, path: str | None, heading: str
) -> None:
    tab.goto(path or _u47700_path(tab))
    page = tab.page
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.title().endswith("· analogwatch")
    page.wait_for_load_state("networkidle")
    _images_loaded(page)
    for shot in tab.screenshot(name):
        assert shot.stat().st_size > 5_000
    assert tab.errors == []


def test_search_finds_u47700_by_name(tab: Tab) -> None:
    tab.goto("/")
    tab.page.get_by_label("Name, synonym, CAS number, InChIKey or SMILES").fill("U-47700")
    tab.page.get_by_role("button", name="Search").click()
    tab.page.wait_for_url(re.compile(r"q=U-47700"))
    link = tab.page.get_by_role("link", name="U-47700", exact=True)
    assert link.count() == 1
    link.click()
    assert tab.page.get_by_role("heading", level=1).inner_text() == "U-47700"
    assert tab.errors == []


def test_search_finds_u47700_by_smiles(tab: Tab) -> None:
    tab.goto("/")
    tab.page.get_by_label("Name, synonym, CAS number, InChIKey or SMILES").fill(U47700)
    tab.page.get_by_role("button", name="Search").click()
    tab.page.wait_for_url(re.compile(r"q=CN"))
    assert tab.page.get_by_role("link", name="U-47700", exact=True).count() == 1
    assert "Read as a structure" in tab.page.inner_text("main")
    assert tab.errors == []


def test_check_flags_a_pasted_fentanyl_analog(tab: Tab) -> None:
    tab.goto("/check-page")
    page = tab.page
    page.get_by_label("One per line").fill(f"{HEXANOYL} hexanoylfentanyl")
    page.locator("#as_of").fill("2025-01-01")
    page.locator("form[method=get]").get_by_role("button", name="Check", exact=True).click()
    page.wait_for_url(re.compile(r"structures="))
    section = page.locator("section.check")
    assert section.count() == 1
    us = section.locator("tr", has=page.locator("th", has_text=re.compile(r"^US$")))
    assert us.locator(".badge").inner_text() == "controlled by class"
    assert "fentanyl-related substances" in us.inner_text().lower()
    img = section.locator("img")
    assert "highlighted: core of" in (img.get_attribute("alt") or "")
    _images_loaded(page)
    assert tab.errors == []


def test_check_rejects_a_malformed_smiles(tab: Tab) -> None:
    tab.goto("/check-page")
    page = tab.page
    page.get_by_label("One per line").fill("C1CC(")
    page.locator("form[method=get]").get_by_role("button", name="Check", exact=True).click()
    page.wait_for_url(re.compile(r"structures="))
    alerts = page.get_by_role("alert")
    text = " ".join(alerts.all_inner_texts())
    assert "no structure could be read" in text
    assert "SMILES does not parse" in text
    assert "Traceback" not in page.content()
    # the 422 is the answer itself, not a failure of the page
    assert [e for e in tab.errors if "422" not in e and "status of 422" not in e] == []


def test_lag_filters_change_the_plot_and_the_url(tab: Tab) -> None:
    tab.goto("/lag-page")
    page = tab.page
    plot = page.locator("#km-plot")
    before = plot.get_attribute("src")
    page.get_by_role("checkbox", name="US").check()
    page.get_by_label("Drug family").select_option("fentanyl")
    page.get_by_label("Appeared relative to class laws").select_option("before")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"jurisdiction=US"))
    query = parse_qs(urlparse(page.url).query)
    assert (
        query["jurisdiction"] == ["US"]
        and query["family"] == ["fentanyl"]
        and query["class_law"] == ["before"]
    )
    after = plot.get_attribute("src")
    assert (
        after != before
        and after is not None
        and "jurisdiction=US" in after
        and "class_law=before" in after
    )
    page.wait_for_load_state("networkidle")
    _images_loaded(page)
    jurisdictions = set(page.locator("#rows tbody tr td:nth-child(2)").all_inner_texts())
    assert jurisdictions == {"US"}
    # the filters survive a reload of the shared URL
    tab.goto(urlparse(page.url).path + "?" + urlparse(page.url).query)
    assert page.get_by_role("checkbox", name="US").is_checked()
    assert page.get_by_label("Drug family").input_value() == "fentanyl"
    assert tab.errors == []


def test_report_page_lists_rows(tab: Tab) -> None:
    tab.goto("/reports-page")
    page = tab.page
    link = page.locator("#reports tbody a").first
    assert re.fullmatch(r"Report \d+", link.inner_text())
    link.click()
    page.wait_for_url(re.compile(r"/reports-page/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Report ")
    rows = page.locator("table.report-rows tbody tr")
    assert rows.count() > 0
    first = rows.first
    assert first.locator("td").first.inner_text() == "1"  # ranked
    assert first.get_by_role("link").first.get_attribute("href").startswith("/s/")
    _images_loaded(page)
    tab.screenshot("report")
    assert tab.errors == []
