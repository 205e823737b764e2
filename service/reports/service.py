"""The lookalike report: reported compounds that are not controlled where they may be needed.

**Content.** A *reported* substance is an NPS substance (registry `nps = true`, or any
compound that came in through the API) with at least one appearance on or before the
report date. For each jurisdiction J, the report lists every reported substance that is
not controlled in J on the report date (neither individually, by identity or skeleton,
nor by a class definition in force) and that is

* ``similarity`` — at least `threshold` similar (Tanimoto, Morgan fingerprints) to a
  substance controlled in J on that date,
* ``controlled_elsewhere`` — controlled in another jurisdiction on that date,
  individually or by a class definition, or
* ``class_near_miss`` — a near miss of a class definition of J in force: it has the core
  but falls outside the permitted modifications,
* ``similar_elsewhere`` — at least the check's `elsewhere_threshold` similar to a substance
  controlled in another jurisdiction on that date, or
* ``class_elsewhere`` — a member or near miss of a class definition of another
  jurisdiction in force on that date, or
* ``contains_controlled`` — it contains whole a substance controlled somewhere on that
  date (the substance plus added atoms; see the check), or
* ``shares_scaffold`` — it carries whole a scaffold (two or more ring systems and their
  linkers) of a substance controlled somewhere on that date (see the check).

The statuses come from the check engine (:func:`service.check.service.check_parsed`) so a
report row and a check of the same compound on the same day agree; the report adds class
control elsewhere to ``controlled_elsewhere``, which the check counts only for individual
listings.

**Ranking**, within a jurisdiction: more reasons first (each is independent evidence);
then the higher similarity to the nearest substance controlled in J; then the more recent
first appearance (the newest arrivals are the early warning); then the name.

**Days since first appearance** run from the midpoint of the first-appearance interval
(anywhere; a report dated `2019-04` counts from 2019-04-15) to the report date, as the lag
analysis counts them.

**Diff.** Each report is compared with the latest earlier successful report: a row whose
InChIKey was not listed for J there is `new_since_previous`; a substance listed for J
there and not now is *resolved*, with its status now (`controlled`,
`controlled_by_class`, `not_flagged`, or `not_reported` when it is no longer a reported
substance). The first report marks every row new.

**Failure.** A run that raises stores a `failed` report with the error and no results;
the latest successful report stays the latest.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from service.check import service as check_service
from service.check.index import WatchIndex
from service.check.verdict import ClassMatchOut, MatchedSubstance, Verdict
from service.chem.inputs import Parsed
from service.chem.standardize import Identity
from service.config import Settings
from service.dates import PartialDate
from service.errors import NotFound, require_jurisdictions
from service.ingest.service import first_flagged
from service.lag.service import start_interval
from service.models import Appearance, Origin, Report, ReportStatus
from service.models.common import utcnow
from service.registry.snapshot import SubstanceFact
from service.webhooks import service as webhooks

log = logging.getLogger("analogwatch.reports")

KIND = "lookalikes"
TOP_K = 3
REASONS = (
    "controlled_elsewhere",
    "similarity",
    "class_near_miss",
    "similar_elsewhere",
    "class_elsewhere",
    "contains_controlled",
    "shares_scaffold",
)
"""Every reason the check gives for a lookalike, in the order a row lists them."""
CSV_COLUMNS = (
    "jurisdiction",
    "rank",
    "name",
    "inchikey",
    "smiles",
    "reason",
    "neighbors",
    "max_similarity",
    "controlled_elsewhere",
    "near_misses",
    "first_appearance",
    "days_since_first_appearance",
    "first_flagged_at",
    "new_since_previous",
)


@dataclass(frozen=True, slots=True)
class ReportParams:
    """What a lookalike report is computed with."""

    as_of: date
    threshold: float
    top_k: int = TOP_K
    jurisdictions: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored with the report."""
        return {
            "as_of": self.as_of.isoformat(),
            "threshold": self.threshold,
            "top_k": self.top_k,
            "jurisdictions": list(self.jurisdictions) if self.jurisdictions else None,
        }


def reported_substances(index: WatchIndex, as_of: date) -> list[SubstanceFact]:
    """NPS and API-reported substances with an appearance on or before `as_of`."""
    return [
        s
        for s in index.snapshot.substances
        if (s.nps or s.origin == Origin.api) and any(a.earliest <= as_of for a in s.appearances)
    ]


def build_lookalikes(
    index: WatchIndex,
    params: ReportParams,
    *,
    previous: dict[str, Any] | None = None,
    flagged: dict[int, dict[str, str]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute the report's results and summary from an index; `previous` is an earlier report's results."""
    snap = index.snapshot
    codes = params.jurisdictions or tuple(sorted(snap.jurisdictions))
    require_jurisdictions(codes, snap.jurisdictions, ("body", "jurisdictions"))
    options = check_service.CheckOptions(
        as_of=params.as_of, threshold=params.threshold, top_k=params.top_k
    )
    flagged = flagged or {}
    rows: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
    status_now: dict[str, dict[str, str]] = {}
    for s in reported_substances(index, params.as_of):
        parsed = Parsed(s.mol, Identity(s.smiles, "", s.inchikey, s.formula), "registry")
        result = check_service.check_parsed(index, parsed, options, query=s.smiles)
        verdicts = {v.jurisdiction: v for v in result.verdicts}
        status_now[s.inchikey] = {j: v.status.value for j, v in verdicts.items()}
        controlled_in = {j: v for j, v in verdicts.items() if v.status.is_controlled}
        for code in codes:
            v = verdicts[code]
            if v.status.is_controlled:
                continue
            elsewhere = [_control(j, w) for j, w in sorted(controlled_in.items()) if j != code]
            # every reason the check gives selects and ranks the row, so a report row and a
            # check of the same compound on the same day agree
            reasons = set(v.reasons) | ({"controlled_elsewhere"} if elsewhere else set())
            if "class_elsewhere" in reasons and not _class_evidence_beyond(v, elsewhere):
                # membership of a class in force elsewhere is already `controlled_elsewhere`
                reasons.discard("class_elsewhere")
            if reasons:
                rows[code].append(
                    _row(s, v, [r for r in REASONS if r in reasons], elsewhere, params, flagged)
                )

    prev = (previous or {}).get("jurisdictions", {})
    jurisdictions: dict[str, Any] = {}
    summary: dict[str, Any] = {"substances_considered": len(status_now), "jurisdictions": {}}
    for code in codes:
        ranked = sorted(
            rows[code],
            key=lambda r: (
                -len(r["reasons"]),
                -r["max_similarity"],
                r["days_since_first_appearance"],
                r["name"].casefold(),
            ),
        )
        before = {r["inchikey"]: r for r in prev.get(code, {}).get("rows", [])}
        now = {r["inchikey"] for r in ranked}
        for i, r in enumerate(ranked, 1):
            r["rank"] = i
            r["new_since_previous"] = r["inchikey"] not in before
        resolved = [
            {
                "name": r["name"],
                "inchikey": r["inchikey"],
                "smiles": r["smiles"],
                "previous_rank": r.get("rank"),
                "status_now": status_now.get(k, {}).get(code, "not_reported"),
            }
            for k, r in before.items()
            if k not in now
        ]
        jurisdictions[code] = {
            "name": snap.jurisdictions[code],
            "rows": ranked,
            "resolved": resolved,
        }
        summary["jurisdictions"][code] = {
            "rows": len(ranked),
            "new": sum(1 for r in ranked if r["new_since_previous"]),
            "resolved": len(resolved),
        }
    return {"jurisdictions": jurisdictions}, summary


def _class_evidence_beyond(verdict: Verdict, elsewhere: list[dict[str, Any]]) -> bool:
    """True when `class_elsewhere` says more than the row's `controlled_elsewhere`: a near
    miss, or membership where the report does not already count control by class."""
    by_class = {e["jurisdiction"] for e in elsewhere if e["by"] == "class"}
    return any(
        e.detail != "member" or any(p.jurisdiction not in by_class for p in e.where)
        for e in verdict.why
        if e.signal == "class_elsewhere"
    )


def _control(code: str, verdict: Verdict) -> dict[str, Any]:
    m: MatchedSubstance | ClassMatchOut | None = verdict.substance or verdict.class_match
    assert m is not None  # a controlled verdict names its listing or its class
    return {
        "jurisdiction": code,
        "by": "listing" if verdict.substance else "class",
        "name": m.name,
        "citation": m.citation,
        "effective_date": m.effective_date,
    }


def _row(
    s: SubstanceFact,
    verdict: Verdict,
    reasons: list[str],
    elsewhere: list[dict[str, Any]],
    params: ReportParams,
    flagged: dict[int, dict[str, str]],
) -> dict[str, Any]:
    apps = [a for a in s.appearances if a.earliest <= params.as_of]
    first = min(
        apps, key=lambda a: (a.earliest, {"day": 0, "month": 1, "year": 2}.get(a.precision, 3))
    )
    lo, hi = start_interval(apps)
    midpoint = date.fromordinal((lo.toordinal() + min(hi, params.as_of).toordinal()) // 2)
    neighbors = [
        {"name": n.name, "inchikey": n.inchikey, "similarity": n.similarity}
        for n in verdict.neighbors
    ]
    return {
        "rank": 0,
        "name": s.name,
        "inchikey": s.inchikey,
        "smiles": s.smiles,
        "reason": ", ".join(reasons),
        "reasons": reasons,
        "neighbors": neighbors,
        "max_similarity": neighbors[0]["similarity"] if neighbors else 0.0,
        "controlled_elsewhere": elsewhere,
        "near_misses": [m.model_dump(mode="json") for m in verdict.near_misses],
        "why": [e.model_dump(mode="json") for e in verdict.why],
        "caveats": [c.model_dump(mode="json") for c in verdict.caveats],
        "first_appearance": {
            "date": str(PartialDate.of(first.earliest, first.precision)),
            "place": first.place,
            "reporter_type": first.reporter_type,
            "source": first.source,
        },
        "days_since_first_appearance": max(0, (params.as_of - midpoint).days),
        "first_flagged_at": flagged.get(s.id, {}).get(verdict.jurisdiction),
        "new_since_previous": True,
        "substance_id": s.id,
        "key": s.key,
        "family": s.family,
        "origin": s.origin,
    }


# ------------------------------------------------------------------------------ storage


def latest(session: Session, *, kind: str = KIND) -> Report | None:
    """The newest successful report of a kind."""
    stmt = (
        select(Report)
        .where(col(Report.kind) == kind, col(Report.status) == ReportStatus.succeeded.value)
        .order_by(Report.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return session.execute(stmt).scalars().first()


def get(session: Session, *, report_id: int) -> Report:
    """One report by id; NotFound when there is none."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id}")
    return report


def list_reports(
    session: Session, *, kind: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[Report]]:
    """Reports newest first (failed runs included), with the total count."""
    count_stmt = select(func.count()).select_from(Report)
    stmt = select(Report).order_by(Report.id.desc())  # type: ignore[union-attr]
    if kind:
        count_stmt = count_stmt.where(col(Report.kind) == kind)
        stmt = stmt.where(col(Report.kind) == kind)
    total = int(session.execute(count_stmt).scalar_one())
    return total, list(session.execute(stmt.offset(offset).limit(limit)).scalars())


def _flagged(session: Session) -> dict[int, dict[str, str]]:
    apps = list(
        session.execute(
            select(Appearance).where(col(Appearance.origin) == Origin.api.value)
        ).scalars()
    )
    by_substance: dict[int, list[Appearance]] = {}
    for a in apps:
        by_substance.setdefault(a.substance_id, []).append(a)
    return {sid: first_flagged(group) for sid, group in by_substance.items()}


def _queue_webhooks(engine: Engine, report: Report) -> None:
    """Queue the stored report for every webhook subscriber; a failure here is logged, never
    turned into a failed report (the report itself was stored)."""
    try:
        n = webhooks.enqueue(engine, report)
    except Exception:
        log.exception("report %s: webhook deliveries could not be queued", report.id)
        return
    if n:
        log.info("report %s: %d webhook deliveries queued", report.id, n)


def run_lookalikes(
    engine: Engine,
    settings: Settings,
    *,
    as_of: date | None = None,
    jurisdictions: tuple[str, ...] | None = None,
    trigger: str = "manual",
    index: Callable[[], WatchIndex],
) -> Report:
    """Compute the report from the database as it is now and store it; a failure is stored too."""
    started = utcnow()
    params = ReportParams(
        as_of=as_of or started.date(),
        threshold=settings.similarity_threshold,
        jurisdictions=jurisdictions,
    )
    stored: dict[str, Any] = {**params.as_dict(), "trigger": trigger}
    try:
        index_now = index()
        stored.update(
            registry_digest=index_now.snapshot.digest,
            fingerprint={
                "kind": index_now.fp_kind,
                "radius": index_now.radius,
                "bits": index_now.bits,
            },
        )
        with Session(engine) as session:
            previous = latest(session)
            flagged = _flagged(session)
            results, summary = build_lookalikes(
                index_now, params, previous=previous.results if previous else None, flagged=flagged
            )
            report = Report(
                kind=KIND,
                status=ReportStatus.succeeded.value,
                as_of=params.as_of,
                parameters=stored,
                summary=summary,
                results=results,
                previous_id=previous.id if previous else None,
                trigger=trigger,
                started_at=started,
                finished_at=utcnow(),
            )
            session.add(report)
            session.commit()
            session.refresh(report)
        _queue_webhooks(engine, report)
        return report
    except Exception as exc:  # recorded as a failed report; the previous one stays the latest
        log.exception("lookalike report failed")
        with Session(engine) as session:
            failed = Report(
                kind=KIND,
                status=ReportStatus.failed.value,
                as_of=params.as_of,
                parameters=stored,
                summary={},
                results=None,
                error=f"{type(exc).__name__}: {exc}"[:4000],
                trigger=trigger,
                started_at=started,
                finished_at=utcnow(),
            )
            session.add(failed)
            session.commit()
            session.refresh(failed)
            return failed


# ---------------------------------------------------------------------------- renderings


def report_public(report: Report, *, with_results: bool = True) -> dict[str, Any]:
    """A report as plain data: its run, parameters and summary, and per jurisdiction its rows."""
    data: dict[str, Any] = {
        "id": report.id,
        "kind": report.kind,
        "status": report.status,
        "as_of": report.as_of.isoformat(),
        "trigger": report.trigger,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "parameters": report.parameters,
        "previous_id": report.previous_id,
        "error": report.error,
        "summary": report.summary,
    }
    if with_results:
        data["jurisdictions"] = (report.results or {}).get("jurisdictions", {})
    return data


def _cell(value: str) -> str:
    # a spreadsheet would run a cell that starts like a formula; names can come from the API
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(report: Report) -> str:
    """One CSV line per (jurisdiction, row), ranked; the columns are CSV_COLUMNS."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for code, section in (report.results or {}).get("jurisdictions", {}).items():
        for r in section["rows"]:
            w.writerow(
                {
                    "jurisdiction": code,
                    "rank": r["rank"],
                    "name": _cell(r["name"]),
                    "inchikey": r["inchikey"],
                    "smiles": r["smiles"],
                    "reason": r["reason"],
                    "neighbors": _cell(
                        "; ".join(f"{n['name']} ({n['similarity']:.2f})" for n in r["neighbors"])
                    ),
                    "max_similarity": r["max_similarity"],
                    "controlled_elsewhere": _cell(
                        "; ".join(
                            f"{c['jurisdiction']}: {c['name']}" for c in r["controlled_elsewhere"]
                        )
                    ),
                    "near_misses": _cell("; ".join(n["name"] for n in r["near_misses"])),
                    "first_appearance": r["first_appearance"]["date"],
                    "days_since_first_appearance": r["days_since_first_appearance"],
                    "first_flagged_at": r["first_flagged_at"] or "",
                    "new_since_previous": "true" if r["new_since_previous"] else "false",
                }
            )
    return buf.getvalue()
