"""Helpers shared by the ingest and report tests: an app with curator keys on a test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.app import create_app
from service.check.index import WatchIndex
from service.config import Settings
from service.models import Appearance, Report, Substance
from service.registry.loader import load_registry
from service.runtime import Runtime

KEY = "curator-key-0123456789abcdef"
OTHER_KEY = "second-curator-key-0123456789"
AUTH = {"X-API-Key": KEY}

# real compounds, chosen for their known similarity to the fixture registry's entries
ACETYLFENTANYL = "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"  # FYIUUQUPOKIKNI-UHFFFAOYSA-N
U49900 = "CCN(CC)[C@@H]1CCCC[C@H]1N(C)C(=O)c1ccc(Cl)c(Cl)c1"  # AXACJBKFKCCIOR-IAGOWNOFSA-N
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"  # RYYVLZVUVIJVGH-UHFFFAOYSA-N
ORTHO_FLUOROFENTANYL = "CCC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2)CC1"  # BKUWDIVZCJNXRA-UHFFFAOYSA-N

HEADER = "structure,name,date,place,reporter_type,reporter,source,notes"
GOOD_CSV = f"""{HEADER}
{ACETYLFENTANYL},Acetylfentanyl,2015-03,EU,eu_ews,EMCDDA,https://www.emcdda.europa.eu/publications/risk-assessments/acetylfentanyl_en,
{U49900},U-49900,2016-09,EU,eu_ews,EMCDDA,https://www.emcdda.europa.eu/system/files/publications/7203/20174402_TDAS17001ENN_PDF.pdf,
{CAFFEINE},Caffeine,2020,XX,other,test,https://pubchem.ncbi.nlm.nih.gov/compound/2519,not an opioid: never flagged
,Furanylfentanyl,2016-01,SE,national_forensic,Swedish police,https://www.emcdda.europa.eu/news/2017/furanylfentanyl,by name
"""


def url_of(engine: Engine) -> str:
    """The engine's URL with its password (the test databases have none)."""
    return engine.url.render_as_string(hide_password=False)


def settings_for(engine: Engine, registry_dir: Path, **extra: object) -> Settings:
    """Settings on the engine's database with two curator keys and the scheduler off."""
    return Settings(
        database_url=url_of(engine),
        schedules_dir=registry_dir,
        curator_api_keys=[KEY, OTHER_KEY],  # type: ignore[list-item]
        scheduler=False,
        similarity_threshold=0.40,  # pinned: the expected lookalikes below are computed at 0.40
        **extra,  # type: ignore[arg-type]
    )


def index_for(engine: Engine, settings: Settings) -> Callable[[], WatchIndex]:
    """The watch index getter the composition root gives a process on this engine."""
    return Runtime(settings=settings, engine=engine, read_only=False).index


@contextmanager
def client_for(engine: Engine, registry_dir: Path) -> Iterator[TestClient]:
    """A test client on a database holding the fixture registry."""
    load_registry(engine, registry_dir)
    with TestClient(create_app(settings_for(engine, registry_dir), engine=engine)) as client:
        yield client


def counts(engine: Engine) -> dict[str, int]:
    """Rows of the tables a write may change."""
    with Session(engine) as session:
        return {
            name: int(session.execute(select(func.count()).select_from(model)).scalar_one())
            for name, model in (
                ("substances", Substance),
                ("appearances", Appearance),
                ("reports", Report),
            )
        }
