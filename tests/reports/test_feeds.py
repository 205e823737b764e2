"""The Atom feeds of the reports: real report runs, parsed by feedparser, every link followed."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from ingestkit import AUTH, GOOD_CSV, ORTHO_FLUOROFENTANYL, client_for
from sqlalchemy.engine import Engine

from service.paths import schedules_dir
from service.reports.service import run_lookalikes

ATOM = "application/atom+xml"
EVIL = "<script>alert(1)</script> & co"
ACETYLFENTANYL_KEY = "FYIUUQUPOKIKNI-UHFFFAOYSA-N"
U49900_KEY = "AXACJBKFKCCIOR-IAGOWNOFSA-N"
ORTHO_FLUOROFENTANYL_KEY = "BKUWDIVZCJNXRA-UHFFFAOYSA-N"
RENDERINGS = {"text/html", "application/json", "text/csv"}


@pytest.fixture
def client(engine: Engine, registry_dir: Path) -> Iterator[TestClient]:
    with client_for(engine, registry_dir) as c:
        r = c.post(
            "/appearances/import",
            files={"file": ("r.csv", GOOD_CSV.encode(), "text/csv")},
            headers=AUTH,
        )
        assert r.status_code == 200, r.text
        yield c


def run_report(client: TestClient, engine: Engine) -> dict[str, Any]:
    """Run the lookalike report as the scheduler does; return it as the API serves it."""
    app: Any = client.app
    report = run_lookalikes(
        engine, app.state.settings, trigger="test", index=app.state.index_holder.get
    )
    assert report.status == "succeeded", report.error
    data: dict[str, Any] = client.get(f"/reports/{report.id}").json()
    return data


def report_ortho_fluorofentanyl(client: TestClient, name: str = "ortho-Fluorofentanyl") -> None:
    body = {
        "structure": ORTHO_FLUOROFENTANYL,
        "name": name,
        "date": "2025-10",
        "place": "US",
        "reporter_type": "national_forensic",
        "source": "https://example.org/o-fluorofentanyl",
    }
    r = client.post("/appearances", json=body, headers=AUTH)
    assert r.status_code == 201, r.text


@pytest.fixture
def three_reports(client: TestClient, engine: Engine) -> list[dict[str, Any]]:
    """Report 1 flags the imported compounds, report 2 ortho-fluorofentanyl, report 3 nothing new."""
    first = run_report(client, engine)
    report_ortho_fluorofentanyl(client)
    second = run_report(client, engine)
    third = run_report(client, engine)
    return [first, second, third]


def get_feed(client: TestClient, **params: str) -> Any:
    r = client.get("/reports/feed.atom", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ATOM
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp())


def tag(report: dict[str, Any]) -> str:
    day = datetime.fromisoformat(report["started_at"]).astimezone(UTC).date().isoformat()
    return f"tag:analogwatch,{day}:report/{report['id']}"


def follow_links(client: TestClient, entry: Any) -> dict[str, str]:
    """GET every alternate link of an entry; answer {type: href} after checking each one."""
    found: dict[str, str] = {}
    for link in entry.links:
        if link.rel != "alternate":
            continue
        r = client.get(link.href)
        assert r.status_code == 200, link.href
        assert r.headers["content-type"].startswith(link.type), (link.href, link.type)
        found[link.type] = link.href
    return found


def test_three_report_runs_give_three_entries(
    client: TestClient, three_reports: list[dict[str, Any]]
) -> None:
    feed = get_feed(client)
    first, second, third = three_reports
    assert feed.version == "atom10"
    assert feed.feed.id == "tag:analogwatch,2026-01-01:reports/lookalikes"
    assert feed.feed.title == "analogwatch: lookalike reports"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [
        "http://testserver/reports/feed.atom"
    ]
    assert calendar.timegm(feed.feed.updated_parsed) == seconds(third["finished_at"])

    entries = feed.entries
    assert [e.id for e in entries] == [tag(third), tag(second), tag(first)]  # newest first
    assert len({e.id for e in entries}) == 3
    for entry, report in zip(entries, [third, second, first], strict=True):
        assert calendar.timegm(entry.published_parsed) == seconds(report["started_at"])
        assert calendar.timegm(entry.updated_parsed) == seconds(report["finished_at"])
        links = follow_links(client, entry)
        assert links == {
            "text/html": f"http://testserver/reports/{report['id']}?format=html",
            "application/json": f"http://testserver/reports/{report['id']}?format=json",
            "text/csv": f"http://testserver/reports/{report['id']}?format=csv",
        }
        assert client.get(links["application/json"]).json()["id"] == report["id"]

    newest, middle, oldest = (e.summary.splitlines() for e in entries)
    assert (
        entries[2].title
        == f"Lookalike report {first['id']} as of {first['as_of']}: 13 new across 5 jurisdictions"
    )
    assert (
        "CN (People's Republic of China): 2 rows, 2 new, 0 resolved; new: U-49900, Acetylfentanyl"
        in oldest
    )
    # U-49900 and acetylfentanyl are close to substances controlled elsewhere (similar_elsewhere);
    # U-49900 also holds U-47700 whole (contains_controlled), the fentanyls carry fentanyl's
    # scaffold (shares_scaffold): with as many reasons, furanylfentanyl, the closest, leads
    assert (
        "EU (European Union): 3 rows, 3 new, 0 resolved; "
        "new: Furanylfentanyl, U-49900, Acetylfentanyl" in oldest
    )
    assert "US (United States): 3 rows, 1 new, 0 resolved; new: ortho-Fluorofentanyl" in middle
    assert "CN (People's Republic of China): 3 rows, 0 new, 0 resolved" in newest
    assert entries[0].title.endswith(": 0 new across 5 jurisdictions")
    # the jurisdictions with news: ortho-fluorofentanyl is new everywhere
    assert {t.term for t in entries[1].tags} == {"CN", "EU", "UK", "UN", "US"}


def test_jurisdiction_feed_has_an_entry_per_newly_flagged_compound(
    client: TestClient, three_reports: list[dict[str, Any]]
) -> None:
    first, second, _third = three_reports
    feed = get_feed(client, jurisdiction="CN")
    assert feed.feed.id == "tag:analogwatch,2026-01-01:reports/lookalikes/CN"
    assert feed.feed.title == "analogwatch: newly flagged compounds in People's Republic of China"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [
        "http://testserver/reports/feed.atom?jurisdiction=CN"
    ]
    # report 3 flagged nothing new: no entry; report 1's compounds in its CN rank order
    assert [e.id for e in feed.entries] == [
        f"{tag(second)}/CN/{ORTHO_FLUOROFENTANYL_KEY}",
        f"{tag(first)}/CN/{U49900_KEY}",
        f"{tag(first)}/CN/{ACETYLFENTANYL_KEY}",
    ]
    assert [e.title for e in feed.entries] == [
        "ortho-Fluorofentanyl: newly flagged in CN "
        "(similarity, similar_elsewhere, contains_controlled)",
        "U-49900: newly flagged in CN (similarity, similar_elsewhere, contains_controlled)",
        "Acetylfentanyl: newly flagged in CN (similarity, similar_elsewhere, shares_scaffold)",
    ]
    entry = feed.entries[0]
    assert calendar.timegm(entry.published_parsed) == seconds(second["started_at"])
    assert calendar.timegm(entry.updated_parsed) == seconds(second["finished_at"])
    assert f"newly listed by report {second['id']}, rank 3 of 3." in entry.summary
    assert "Nearest controlled in CN: Furanylfentanyl (0.54)" in entry.summary
    assert "First reported 2025-10 (US, national_forensic)" in entry.summary
    assert f"InChIKey {ORTHO_FLUOROFENTANYL_KEY}" in entry.summary
    for e in feed.entries:
        links = follow_links(client, e)
        assert set(links) == RENDERINGS
        assert links["text/html"].endswith("?format=html#CN")
        (related,) = [link for link in e.links if link.rel == "related"]
        substance = client.get(related.href)
        assert substance.status_code == 200
        assert substance.json()["inchikey"] == e.id.rsplit("/", 1)[1]

    # lower case is read as the code; another jurisdiction has its own entries
    assert [e.id for e in get_feed(client, jurisdiction="cn").entries] == [
        e.id for e in feed.entries
    ]
    eu = get_feed(client, jurisdiction="EU")
    assert [e.title for e in eu.entries] == [
        "ortho-Fluorofentanyl: newly flagged in EU (similar_elsewhere, contains_controlled)",
        "Furanylfentanyl: newly flagged in EU "
        "(controlled_elsewhere, similar_elsewhere, shares_scaffold)",
        "U-49900: newly flagged in EU (similar_elsewhere, contains_controlled)",
        "Acetylfentanyl: newly flagged in EU (similar_elsewhere, shares_scaffold)",
    ]
    furanyl = eu.entries[1].summary
    assert "Controlled elsewhere: CN by listing: Furanylfentanyl" in furanyl
    assert "US by listing: Furanylfentanyl (83 FR 61320, 2018-11-29)." in furanyl


def test_unknown_jurisdiction_is_a_422_naming_the_field(client: TestClient) -> None:
    r = client.get("/reports/feed.atom", params={"jurisdiction": "ZZ"})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["loc"] == ["query", "jurisdiction"]
    assert problem["msg"] == "unknown jurisdiction 'ZZ'; known: CN, EU, UK, UN, US"
    too_long = client.get("/reports/feed.atom", params={"jurisdiction": "X" * 9})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "jurisdiction"]


def test_no_report_yet_is_an_empty_feed_not_a_report_id(client: TestClient) -> None:
    feed = get_feed(client)
    assert feed.entries == []
    assert feed.feed.id == "tag:analogwatch,2026-01-01:reports/lookalikes"
    assert get_feed(client, jurisdiction="US").entries == []


def test_names_are_escaped_in_the_feeds(client: TestClient, engine: Engine) -> None:
    run_report(client, engine)
    report_ortho_fluorofentanyl(client, name=EVIL)
    run_report(client, engine)
    raw = client.get("/reports/feed.atom").text
    assert EVIL not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in raw
    summary = get_feed(client).entries[0].summary
    assert "new: <script>alert(1)</script> & co" in summary  # data, read back as text
    us = get_feed(client, jurisdiction="US")
    assert us.entries[0].title == (
        f"{EVIL}: newly flagged in US (similarity, similar_elsewhere, contains_controlled)"
    )


def test_failed_runs_are_not_in_the_feed(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.reports import service

    good = run_report(client, engine)

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(service, "build_lookalikes", boom)
    assert client.post("/reports/run", headers=AUTH).status_code == 500
    assert [e.id for e in get_feed(client).entries] == [tag(good)]


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        if name == "head":
            self.in_head = True
        elif name == "link" and self.in_head and dict(attrs).get("rel") == "alternate":
            self.links.append(dict(attrs))

    def handle_endtag(self, name: str) -> None:
        if name == "head":
            self.in_head = False


def feed_links(html: str) -> list[tuple[str | None, str | None]]:
    parser = _AlternateLinks()
    parser.feed(html)
    return [(link.get("type"), link.get("href")) for link in parser.links]


def test_pages_link_the_feed_in_their_head(client: TestClient, engine: Engine) -> None:
    rid = run_report(client, engine)["id"]
    expected = [(ATOM, "/reports/feed.atom")]
    for path in ("/reports-page", f"/reports-page/{rid}", f"/reports/{rid}?format=html", "/"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert feed_links(r.text) == expected, path
    # and the linked address is the feed
    assert client.get(expected[0][1]).headers["content-type"] == ATOM


def test_the_feed_route_is_named_and_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/reports/feed.atom"]["get"]
    assert operation["operationId"] == "reports_feed"
    assert ATOM in operation["responses"]["200"]["content"]
    assert [p["name"] for p in operation["parameters"]] == ["jurisdiction"]


def test_a_uk_entry_says_an_unencoded_generic_law_may_already_control_it(
    engine: Engine, registry_dir: Path
) -> None:
    shipped = schedules_dir() / "unencoded" / "uk-fentanyls.toml"
    (registry_dir / "unencoded").mkdir()
    (registry_dir / "unencoded" / shipped.name).write_text(shipped.read_text("utf-8"), "utf-8")
    with client_for(engine, registry_dir) as c:
        r = c.post(
            "/appearances/import",
            files={"file": ("r.csv", GOOD_CSV.encode(), "text/csv")},
            headers=AUTH,
        )
        assert r.status_code == 200, r.text
        run_report(c, engine)
        uk = {e.title.split(":")[0]: e.summary for e in get_feed(c, jurisdiction="UK").entries}
        us = [e.summary for e in get_feed(c, jurisdiction="US").entries]
    assert "May already be controlled in UK under Misuse of Drugs Act 1971" in uk["Acetylfentanyl"]
    assert "needs legal review" in uk["Acetylfentanyl"]
    assert not any("May already be controlled" in s for s in us)
