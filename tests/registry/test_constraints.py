"""Database constraints hold on their own, whatever code writes the rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.models import Appearance, ControlAction, Substance
from service.registry.loader import load_registry


def _fentanyl_id(engine: Engine) -> int:
    with Session(engine) as s:
        return s.execute(select(Substance.id).where(Substance.key == "fentanyl")).scalar_one()


@pytest.mark.parametrize(
    "row",
    [
        {"kind": "permanent", "effective_date": date(1971, 5, 1)},  # duplicate natural key
        {"kind": "temporary", "effective_date": date(2020, 1, 2), "end_date": date(2020, 1, 1)},
        {"kind": "banned", "effective_date": date(2020, 1, 2)},
        {"kind": "permanent", "effective_date": date(2020, 1, 2), "jurisdiction": "XX"},
    ],
    ids=["duplicate", "end-before-start", "unknown-kind", "unknown-jurisdiction"],
)
def test_control_action_constraints(engine: Engine, registry_dir: Path, row: dict[str, object]) -> None:
    load_registry(engine, registry_dir)
    values = {"jurisdiction": "US", "citation": "c", "source": "s", **row}
    with Session(engine) as s, pytest.raises(IntegrityError):
        s.add(ControlAction(substance_id=_fentanyl_id(engine), **values))  # type: ignore[arg-type]
        s.commit()


def test_appearance_precision_is_checked(engine: Engine, registry_dir: Path) -> None:
    load_registry(engine, registry_dir)
    with Session(engine) as s, pytest.raises(IntegrityError):
        s.add(
            Appearance(
                substance_id=_fentanyl_id(engine),
                reported_date=date(2016, 1, 1),
                reported_precision="week",
                place="US",
                reporter_type="seizure",
                source="s",
            )
        )
        s.commit()
