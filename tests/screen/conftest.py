"""A watch index over the shipped registry and a small library with bad records."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from dbkit import service_database_url, service_settings
from sqlalchemy.engine import Engine

from service import runtime
from service.check.index import IndexHolder, WatchIndex
from service.paths import schedules_dir

BENCH = Path(__file__).parents[2] / "bench" / "check_bench.py"
KNOWN = [
    ("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "fentanyl"),
    ("CCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1", "p-chloro-butyrfentanyl"),
    ("CN(C)C1CCCCC1N(C)C(=O)c1ccc(Cl)c(Cl)c1", "U-47700"),
    ("COc1ccc2c(c1)[C@]13CCCC[C@@H]1[C@H](C2)N(C)CC3", "dextromethorphan"),
]
BAD = [("not_a_smiles", "bad-syntax"), ("C1CC", "bad-ring"), ("[Na+].[Cl-]", "bad-inorganic")]


@pytest.fixture(scope="session")
def screen_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    url = service_database_url(tmp_path_factory.mktemp("screen"), "registry.db")
    return runtime.open_writable(service_settings(url, schedules_dir=schedules_dir())).engine


@pytest.fixture(scope="session")
def screen_index(screen_engine: Engine) -> WatchIndex:
    return IndexHolder(screen_engine, kind="morgan", radius=2, bits=2048).rebuild()


@pytest.fixture(scope="session")
def library_records() -> list[tuple[str, str]]:
    """(smiles, id): generated drug-like compounds, known opioids, and bad records between them."""
    spec = importlib.util.spec_from_file_location("check_bench", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # 109 generated + 4 known + 3 bad = 116 records
    records = [(s, f"gen-{i}") for i, s in enumerate(mod.generate(109, seed=5))]
    records[10:10] = KNOWN
    records[40:40] = BAD[:2]
    records.append(BAD[2])
    return records


@pytest.fixture
def library(tmp_path: Path, library_records: list[tuple[str, str]]) -> Path:
    path = tmp_path / "library.smi"
    path.write_text("# smiles id\n" + "".join(f"{s} {i}\n" for s, i in library_records))
    return path
