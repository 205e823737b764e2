"""Atom feeds of the lookalike reports, written with feedgen.

**The reports feed** (`/reports/feed.atom`) has one entry per successful report, newest
first (at most FEED_REPORTS). Its summary lists, per jurisdiction, the number of rows, how
many are new and how many were resolved since the previous report, and the names of the
new compounds; its links are the report's HTML, JSON and CSV renderings.

**A jurisdiction's feed** (`/reports/feed.atom?jurisdiction=CN`) has one entry per newly
flagged compound: a row of that jurisdiction with `new_since_previous`, from the same
reports. A regulator's reader then shows each compound as one item to triage — read,
star, forward — rather than a weekly digest to open; a report that flags nothing new in
the jurisdiction adds no entry (the reports feed still shows it). At most FEED_ENTRIES.

**Ids** are tag URIs that never change: `tag:analogwatch,<day the report started>:report/<id>`
for a report, with `/<jurisdiction>/<InChIKey>` appended for a compound. The day keeps
two databases that both count reports from 1 apart. Published is when the run started,
updated when it finished, both in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlmodel import Session, col

from service import __version__
from service.models import Report, ReportStatus
from service.reports.service import KIND

FEED_REPORTS = 50  # reports read per feed
FEED_ENTRIES = 200  # compound entries of a jurisdiction's feed
FEED_MEDIA_TYPE = "application/atom+xml"
FEED_ID_DAY = "2026-01-01"  # fixed part of the feeds' own ids
NEW_NAMES_SHOWN = 20  # names of new compounds per jurisdiction in a report entry's summary
RENDERINGS = (("html", "text/html"), ("json", "application/json"), ("csv", "text/csv"))

# XML 1.0 refuses these characters; names can come from the API
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _Entry(FeedEntry):  # type: ignore[misc]  # feedgen has no type hints
    """A feedgen entry whose links keep their attributes.

    feedgen 1.0.0 writes only `href` of an entry's links and drops rel, type and title
    (lkiesow/python-feedgen#135), so every rendering would read as the one alternate link.
    """

    def atom_entry(self, extensions: bool = True) -> Any:
        """Build the entry's XML element and complete its links from what was set."""
        entry = super().atom_entry(extensions)
        for element, link in zip(entry.findall("link"), self.link() or [], strict=False):
            for key in ("rel", "type", "hreflang", "title", "length"):
                if link.get(key):
                    element.set(key, str(link[key]))
        return entry


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """What a feed is built for: the service's base URL and, optionally, one jurisdiction."""

    base_url: str  # absolute, ending in "/"
    jurisdiction: str | None = None
    jurisdiction_name: str | None = None


def succeeded_reports(session: Session, *, limit: int = FEED_REPORTS) -> list[Report]:
    """Return the newest successful lookalike reports, newest first."""
    stmt = (
        select(Report)
        .where(col(Report.kind) == KIND, col(Report.status) == ReportStatus.succeeded.value)
        .order_by(col(Report.id).desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def reports_feed(session: Session, req: FeedRequest) -> bytes:
    """Write the Atom document of the reports feed, or of one jurisdiction's newly flagged compounds."""
    reports = succeeded_reports(session)
    fg = _feed(req, reports)
    if req.jurisdiction is None:
        for report in reports:
            _report_entry(fg, report, req)
    else:
        _compound_entries(fg, reports, req)
    return cast(bytes, fg.atom_str(pretty=True))


# --------------------------------------------------------------------------------- parts


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were stored in UTC
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _report_tag(report: Report) -> str:
    return f"tag:analogwatch,{_utc(report.started_at).date().isoformat()}:report/{report.id}"


def _feed(req: FeedRequest, reports: list[Report]) -> FeedGenerator:
    base = req.base_url
    fg = FeedGenerator()
    if req.jurisdiction is None:
        fg.id(f"tag:analogwatch,{FEED_ID_DAY}:reports/lookalikes")
        fg.title("analogwatch: lookalike reports")
        fg.subtitle(
            "Reported compounds not controlled in a jurisdiction that resemble what is "
            "controlled there, or are controlled elsewhere: one entry per report"
        )
        fg.link(href=f"{base}reports/feed.atom", rel="self", type=FEED_MEDIA_TYPE)
    else:
        code = req.jurisdiction
        fg.id(f"tag:analogwatch,{FEED_ID_DAY}:reports/lookalikes/{code}")
        fg.title(f"analogwatch: newly flagged compounds in {_text(req.jurisdiction_name or code)}")
        fg.subtitle(
            f"One entry per compound that a lookalike report newly lists as not controlled "
            f"in {code} while it resembles what is controlled there, or is controlled elsewhere"
        )
        fg.link(
            href=f"{base}reports/feed.atom?jurisdiction={code}", rel="self", type=FEED_MEDIA_TYPE
        )
    fg.link(href=f"{base}reports-page", rel="alternate", type="text/html")
    fg.author({"name": "analogwatch"})
    fg.generator("analogwatch", version=__version__)
    fg.updated(_utc(reports[0].finished_at) if reports else datetime.now(UTC))
    return fg


def _links(entry: Any, report: Report, base: str, fragment: str = "") -> None:
    for fmt, media_type in RENDERINGS:
        href = f"{base}reports/{report.id}?format={fmt}"
        entry.link(
            href=href + fragment if fmt == "html" else href,
            rel="alternate",
            type=media_type,
            title=f"report {report.id} as {fmt.upper()}",
        )


def _sections(report: Report) -> dict[str, Any]:
    sections: dict[str, Any] = (report.results or {}).get("jurisdictions", {})
    return sections


def _new_rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in section.get("rows", []) if r.get("new_since_previous")]


def _names(rows: Iterable[dict[str, Any]]) -> str:
    names = [_text(r["name"]) for r in rows]
    shown = ", ".join(names[:NEW_NAMES_SHOWN])
    more = len(names) - NEW_NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _report_entry(fg: FeedGenerator, report: Report, req: FeedRequest) -> None:
    sections = _sections(report)
    counts: dict[str, Any] = (report.summary or {}).get("jurisdictions", {})
    lines: list[str] = []
    new_total = 0
    for code, section in sections.items():
        c = counts.get(code) or {}
        new = _new_rows(section)
        new_total += len(new)
        line = (
            f"{code} ({_text(section.get('name', code))}): {_rows(int(c.get('rows', len(section['rows']))))}, "
            f"{c.get('new', len(new))} new, "
            f"{c.get('resolved', len(section.get('resolved', [])))} resolved"
        )
        lines.append(line + (f"; new: {_names(new)}" if new else ""))
    entry = fg.add_entry(_Entry(), order="append")
    entry.id(_report_tag(report))
    entry.title(
        f"Lookalike report {report.id} as of {report.as_of.isoformat()}: "
        f"{new_total} new across {len(sections)} jurisdiction{'' if len(sections) == 1 else 's'}"
    )
    entry.published(_utc(report.started_at))
    entry.updated(_utc(report.finished_at))
    entry.summary("\n".join(lines) or "No jurisdiction in this report.")
    for code, section in sections.items():
        if _new_rows(section):
            entry.category(term=code, label=_text(section.get("name", code)))
    _links(entry, report, req.base_url)


def _compound_entries(fg: FeedGenerator, reports: list[Report], req: FeedRequest) -> None:
    code = req.jurisdiction
    assert code is not None
    added = 0
    for report in reports:
        section = _sections(report).get(code)
        if section is None:  # a run restricted to other jurisdictions
            continue
        for row in _new_rows(section):
            if added == FEED_ENTRIES:
                return
            _compound_entry(fg, report, code, len(section["rows"]), row, req.base_url)
            added += 1


def _compound_entry(
    fg: FeedGenerator, report: Report, code: str, of: int, row: dict[str, Any], base: str
) -> None:
    name = _text(row["name"])
    neighbors = ", ".join(
        f"{_text(n['name'])} ({n['similarity']:.2f})" for n in row.get("neighbors", [])
    )
    elsewhere = "; ".join(
        f"{c['jurisdiction']} by {c['by']}: {_text(c['name'])} ({_text(c['citation'])}, "
        f"{c['effective_date']})"
        for c in row.get("controlled_elsewhere", [])
    )
    near = ", ".join(_text(n.get("name", "")) for n in row.get("near_misses", []))
    first = row.get("first_appearance") or {}
    lines = [
        f"Not controlled in {code} on {report.as_of.isoformat()}; "
        f"newly listed by report {report.id}, rank {row['rank']} of {of}.",
        f"Reasons: {_text(row['reason'])}.",
    ]
    if neighbors:
        lines.append(f"Nearest controlled in {code}: {neighbors}.")
    if elsewhere:
        lines.append(f"Controlled elsewhere: {elsewhere}.")
    if near:
        lines.append(f"Near miss of the class definitions: {near}.")
    for c in row.get("caveats", []):
        lines.append(
            f"May already be controlled in {code} under {_text(c.get('name', ''))}, a generic "
            f"law the registry does not encode (in force by {c.get('known_in_force_by', '')}; "
            f"{_text(c.get('citation', ''))}): needs legal review."
        )
    if first:
        lines.append(
            f"First reported {_text(first.get('date', ''))} ({_text(first.get('place', ''))}, "
            f"{_text(first.get('reporter_type', ''))}); "
            f"{row.get('days_since_first_appearance', 0)} days before the report date."
        )
    lines.append(f"InChIKey {row['inchikey']}; SMILES {_text(row['smiles'])}")
    entry = fg.add_entry(_Entry(), order="append")
    entry.id(f"{_report_tag(report)}/{code}/{row['inchikey']}")
    entry.title(f"{name}: newly flagged in {code} ({_text(row['reason'])})")
    entry.published(_utc(report.started_at))
    entry.updated(_utc(report.finished_at))
    entry.summary("\n".join(lines))
    entry.category(term=code)
    for reason in row.get("reasons", []):
        entry.category(term=_text(reason))
    _links(entry, report, base, fragment=f"#{code}")
    if row.get("substance_id"):
        entry.link(
            href=f"{base}substances/{row['substance_id']}",
            rel="related",
            type="application/json",
            title=f"{name} in the registry",
        )
