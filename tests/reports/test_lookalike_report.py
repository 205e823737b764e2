"""The lookalike report on a hand-built registry with known lookalikes, and the diff between runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from ingestkit import GOOD_CSV, HEADER, ORTHO_FLUOROFENTANYL, index_for, settings_for
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.check.index import IndexHolder
from service.config import Settings
from service.ingest import files
from service.ingest import service as ingest
from service.models import ControlAction, Substance
from service.paths import schedules_dir
from service.registry.loader import load_registry
from service.reports import service as reports

AS_OF = date(2026, 1, 1)
CONTRACT = {
    "name",
    "inchikey",
    "smiles",
    "reason",
    "neighbors",
    "days_since_first_appearance",
    "new_since_previous",
}


def _import(engine: Engine, settings: Settings, text: str) -> None:
    rows, problems = files.read_rows(text.encode(), "r.csv")
    assert problems == []
    index = IndexHolder(engine, kind="morgan", radius=2, bits=2048).rebuild()
    prepared, problems = ingest.validate(
        index, rows, today=date.today(), threshold=settings.similarity_threshold
    )
    assert [str(p) for p in problems] == []
    with Session(engine) as session:
        ingest.apply(session, prepared)
        session.commit()


@pytest.fixture
def settings(engine: Engine, registry_dir: Path) -> Settings:
    load_registry(engine, registry_dir)
    s = settings_for(engine, registry_dir)
    _import(engine, s, GOOD_CSV)
    return s


def _names(report: reports.Report, code: str) -> list[str]:
    return [r["name"] for r in (report.results or {})["jurisdictions"][code]["rows"]]


def _row(report: reports.Report, code: str, name: str) -> dict:
    return next(
        r for r in (report.results or {})["jurisdictions"][code]["rows"] if r["name"] == name
    )


def test_known_lookalikes_ranked_per_jurisdiction(engine: Engine, settings: Settings) -> None:
    report = reports.run_lookalikes(engine, settings, as_of=AS_OF, index=index_for(engine, settings))
    assert report.status == "succeeded", report.error
    assert report.parameters["threshold"] == 0.4 and report.parameters["as_of"] == "2026-01-01"
    # US controls fentanyl, butyrfentanyl, furanylfentanyl and U-47700: the two new analogs are
    # similar to them; caffeine resembles nothing; furanylfentanyl is controlled there. U-49900
    # (U-47700 with two carbons added: it contains U-47700 whole) and acetylfentanyl (it
    # carries fentanyl's scaffold) have three reasons each: the more similar first
    assert _names(report, "US") == ["Acetylfentanyl", "U-49900"]
    # China controls U-47700 and furanylfentanyl only: U-49900 is the closer lookalike there
    assert _names(report, "CN") == ["U-49900", "Acetylfentanyl"]
    # the UN, the EU (which includes the UN) and the UK control nothing in this registry:
    # furanylfentanyl is there because the US and China control it, the two new analogs
    # because they resemble what the US and China control (similar_elsewhere); furanylfentanyl
    # and acetylfentanyl carry fentanyl's scaffold (shares_scaffold): three reasons lead
    for code in ("UN", "EU", "UK"):
        assert _names(report, code) == ["Furanylfentanyl", "U-49900", "Acetylfentanyl"]
        assert _row(report, code, "U-49900")["reason"] == "similar_elsewhere, contains_controlled"
    acetyl = _row(report, "US", "Acetylfentanyl")
    assert set(acetyl) >= CONTRACT
    assert acetyl["inchikey"] == "FYIUUQUPOKIKNI-UHFFFAOYSA-N"
    assert acetyl["reason"] == "similarity, similar_elsewhere, shares_scaffold"
    assert [(n["name"], n["similarity"]) for n in acetyl["neighbors"]] == [
        ("Fentanyl", 0.7727),
        ("Butyryl fentanyl", 0.7391),
        ("Furanylfentanyl", 0.6875),
    ]
    # first appearance 2015-03: counted from the month's midpoint, 2015-03-16
    assert acetyl["days_since_first_appearance"] == (AS_OF - date(2015, 3, 16)).days
    assert acetyl["first_appearance"]["date"] == "2015-03"
    assert acetyl["first_flagged_at"] is not None  # the ingest-time check flagged it in the US
    assert acetyl["new_since_previous"] is True and acetyl["rank"] == 1
    assert _row(report, "US", "U-49900")["neighbors"][0]["name"] == "U-47700"
    furanyl = _row(report, "UN", "Furanylfentanyl")
    assert furanyl["reason"] == "controlled_elsewhere, similar_elsewhere, shares_scaffold"
    assert [
        (c["jurisdiction"], c["by"], c["effective_date"]) for c in furanyl["controlled_elsewhere"]
    ] == [
        ("CN", "listing", "2017-03-01"),
        ("US", "listing", "2018-11-29"),
    ]
    assert furanyl["neighbors"] == []
    assert (
        furanyl["first_appearance"]["date"] == "2015"
    )  # the DEA's year-only statement is earliest
    assert report.summary["jurisdictions"]["US"] == {"rows": 2, "new": 2, "resolved": 0}
    assert report.summary["substances_considered"] == 4  # furanylfentanyl + 3 reported compounds


def test_as_of_before_a_control_lists_what_was_slipping_through_then(
    engine: Engine, settings: Settings
) -> None:
    report = reports.run_lookalikes(engine, settings, as_of=date(2016, 6, 1), index=index_for(engine, settings))
    # furanylfentanyl was first controlled (US, temporarily) in November 2016
    assert "Furanylfentanyl" in _names(report, "US")
    assert "U-49900" not in _names(report, "US")  # first reported in September 2016


def test_second_run_shows_new_and_resolved(engine: Engine, settings: Settings) -> None:
    first = reports.run_lookalikes(engine, settings, as_of=AS_OF, index=index_for(engine, settings))
    with Session(engine) as session:
        acetyl = session.execute(
            select(Substance).where(Substance.inchikey == "FYIUUQUPOKIKNI-UHFFFAOYSA-N")
        ).scalar_one()
        session.add(
            ControlAction(
                substance_id=acetyl.id,
                jurisdiction="US",
                kind="permanent",
                schedule="I",
                effective_date=date(2025, 6, 1),
                citation="test act",
                source="https://example.org/test",
            )
        )
        session.commit()
    _import(
        engine,
        settings,
        f"{HEADER}\n{ORTHO_FLUOROFENTANYL},ortho-Fluorofentanyl,2025-10,US,national_forensic,,https://example.org/ofluoro,\n",
    )
    second = reports.run_lookalikes(engine, settings, as_of=AS_OF, index=index_for(engine, settings))
    assert second.previous_id == first.id
    jur = (second.results or {})["jurisdictions"]
    # US: acetylfentanyl is controlled now; ortho-fluorofentanyl is new and ranks first
    assert _names(second, "US") == ["ortho-Fluorofentanyl", "U-49900"]
    assert [r["new_since_previous"] for r in jur["US"]["rows"]] == [True, False]
    assert jur["US"]["resolved"] == [
        {
            "name": "Acetylfentanyl",
            "inchikey": "FYIUUQUPOKIKNI-UHFFFAOYSA-N",
            "smiles": "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "previous_rank": 1,
            "status_now": "controlled",
        }
    ]
    # China: acetylfentanyl now has four reasons (controlled in the US, similar, and fentanyl's
    # scaffold), one more than U-49900 (similar, and U-47700 inside it whole)
    assert _names(second, "CN") == ["Acetylfentanyl", "U-49900", "ortho-Fluorofentanyl"]
    assert _row(second, "CN", "Acetylfentanyl")["reason"] == (
        "controlled_elsewhere, similarity, similar_elsewhere, shares_scaffold"
    )
    assert [r["new_since_previous"] for r in jur["CN"]["rows"]] == [False, False, True]
    assert _row(second, "CN", "ortho-Fluorofentanyl")["reason"].endswith("contains_controlled")
    # the UN: acetylfentanyl was listed before (it resembles what the US and China control,
    # and carries fentanyl's scaffold) and now has a third reason, control in the US;
    # ortho-fluorofentanyl is new (furanylfentanyl now holds acetylfentanyl, controlled in
    # the US, whole: that reason replaces its scaffold)
    assert _names(second, "UN") == [
        "Furanylfentanyl",
        "Acetylfentanyl",
        "ortho-Fluorofentanyl",
        "U-49900",
    ]
    assert _row(second, "UN", "Acetylfentanyl")["reason"] == (
        "controlled_elsewhere, similar_elsewhere, shares_scaffold"
    )
    assert [r["new_since_previous"] for r in jur["UN"]["rows"]] == [False, False, True, False]
    assert second.summary["jurisdictions"]["US"] == {"rows": 2, "new": 1, "resolved": 1}


def test_failed_run_keeps_the_previous_report(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = reports.run_lookalikes(engine, settings, as_of=AS_OF, index=index_for(engine, settings))

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("fingerprint service exploded")

    monkeypatch.setattr(reports, "build_lookalikes", boom)
    failed = reports.run_lookalikes(engine, settings, as_of=AS_OF, index=index_for(engine, settings))
    assert failed.status == "failed"
    assert failed.error == "RuntimeError: fingerprint service exploded"
    assert failed.results is None
    with Session(engine) as session:
        latest = reports.latest(session)
        assert latest is not None and latest.id == good.id
        assert latest.results == good.results
        total, listed = reports.list_reports(session)
    assert total == 2
    assert [r.status for r in listed] == ["failed", "succeeded"]


def test_each_row_says_why_with_where_and_since_when(engine: Engine, settings: Settings) -> None:
    report = reports.run_lookalikes(engine, settings, as_of=AS_OF, index=index_for(engine, settings))
    row = _row(report, "US", "Acetylfentanyl")
    signals = {e["signal"] for e in row["why"]}
    assert set(row["reasons"]) <= signals  # every reason the row is listed for is explained
    similar = next(e for e in row["why"] if e["signal"] == "similarity")
    assert similar["name"] == row["neighbors"][0]["name"]
    assert similar["similarity"] == row["neighbors"][0]["similarity"]
    assert {w["jurisdiction"] for w in similar["where"]} >= {"US"}
    assert all(w["in_force_from"] <= "2026-01-01" for e in row["why"] for w in e["where"])


def test_a_row_carries_the_unencoded_generic_law_that_may_control_it(
    engine: Engine, registry_dir: Path
) -> None:
    (registry_dir / "unencoded").mkdir()
    shipped = schedules_dir() / "unencoded" / "uk-fentanyls.toml"
    (registry_dir / "unencoded" / shipped.name).write_text(shipped.read_text("utf-8"), "utf-8")
    load_registry(engine, registry_dir)
    s = settings_for(engine, registry_dir)
    _import(engine, s, GOOD_CSV)
    report = reports.run_lookalikes(engine, s, as_of=AS_OF, index=index_for(engine, s))
    uk = (report.results or {})["jurisdictions"]["UK"]["rows"]
    fentanyls = [r for r in uk if "fentanyl" in r["name"].lower()]
    assert fentanyls, [r["name"] for r in uk]
    for r in fentanyls:
        assert [c["key"] for c in r["caveats"]] == ["uk-fentanyl-generic"], r["name"]
    # other jurisdictions' rows carry none: the law is the UK's
    us = (report.results or {})["jurisdictions"]["US"]["rows"]
    assert us and all(r["caveats"] == [] for r in us)
