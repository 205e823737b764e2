"""A permanent act dated by its source only to a year or a month keeps that precision and
counts as in force from the last day of the period."""

from __future__ import annotations

import csv
from pathlib import Path

from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.app import create_app
from service.models import ControlAction, Substance
from service.registry.loader import load_registry

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def _date_fentanyl_act(registry_dir: Path, written: str) -> None:
    path = registry_dir / "actions" / "us.csv"
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames or [], list(reader)
    for row in rows:
        if row["substance"] == "fentanyl" and row["kind"] == "permanent":
            row["effective_date"] = written
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _load_fentanyl_act(engine: Engine, registry_dir: Path, written: str) -> tuple[str, str]:
    """Load the registry with fentanyl's act dated as written; the stored date and precision."""
    _date_fentanyl_act(registry_dir, written)
    load_registry(engine, registry_dir)
    with Session(engine) as s:
        act = s.execute(
            select(ControlAction).join(Substance).where(Substance.key == "fentanyl")
        ).scalar_one()
        return act.effective_date.isoformat(), act.effective_precision


def test_year_is_stored_with_its_precision(engine: Engine, registry_dir: Path) -> None:
    assert _load_fentanyl_act(engine, registry_dir, "1971") == ("1971-01-01", "year")
    # back to a day: the reload updates the stored act
    assert _load_fentanyl_act(engine, registry_dir, "1971-05-01") == ("1971-05-01", "day")


def test_in_force_only_after_the_period_and_shown_as_stated(
    tmp_path: Path, registry_dir: Path
) -> None:
    _date_fentanyl_act(registry_dir, "1971-05")
    settings = service_settings(service_database_url(tmp_path, "p.db"), schedules_dir=registry_dir)
    with TestClient(create_app(settings)) as client:

        def us(as_of: str) -> dict:  # type: ignore[type-arg]
            r = client.post(
                "/check", json={"structure": FENTANYL, "as_of": as_of, "jurisdictions": ["US"]}
            )
            assert r.status_code == 200, r.text
            return r.json()["verdicts"][0]

        assert us("1971-05-15")["status"] != "controlled"  # some day in May: not yet certain
        v = us("1971-06-01")
        assert v["status"] == "controlled"
        assert v["substance"]["effective_date"] == "1971-05"
        assert v["substance"]["effective_date_precision"] == "month"
        assert v["substance"]["in_force_from"] == "1971-05-31"
        export = client.get("/registry/export", params={"format": "json"}).json()
        fentanyl_us = [r for r in export if r["name"] == "Fentanyl" and r["jurisdiction"] == "US"]
        assert [r["effective_date"] for r in fentanyl_us] == ["1971-05"]
