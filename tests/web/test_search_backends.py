"""Pages on both similarity-search backends: in memory and in PostgreSQL (RDKit cartridge).

Every substance page answers 200 on each backend, and a structure search finds the same
nearest substances, with the same similarities, on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from dbkit import (
    drop_pg_database,
    new_pg_database,
    require_rdkit_cartridge,
    service_database_url,
    service_settings,
)
from fastapi.testclient import TestClient

from service import migrate
from service.app import create_app
from service.check.index import IndexHolder, WatchIndex
from service.config import Settings
from service.paths import schedules_dir
from service.web import pages

BACKENDS = ["memory", pytest.param("cartridge", marks=pytest.mark.postgres)]
QUERIES = [
    "CCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1",  # a fentanyl analog not in the registry
    "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2ccccc21",  # a des-nitro nitazene
    "CN(C)C1CCCCC1N(C)C(=O)c1ccc(Br)c(Br)c1",  # a U-47700 analog
]


def _client(
    backend: str, request: pytest.FixtureRequest, tmp: pytest.TempPathFactory
) -> Iterator[TestClient]:
    if backend == "memory":
        url = service_database_url(tmp.mktemp("memory"), "registry.db")
        with TestClient(create_app(service_settings(url, schedules_dir=schedules_dir()))) as c:
            yield c
        return
    admin = request.getfixturevalue("pg_server")
    require_rdkit_cartridge(admin)
    name, url = new_pg_database(admin)
    try:
        migrate.upgrade(url)
        settings = Settings(
            database_url=url, schedules_dir=schedules_dir(), search_backend="cartridge"
        )
        with TestClient(create_app(settings)) as c:
            yield c
    finally:
        drop_pg_database(name, admin)


@pytest.fixture(scope="module", params=BACKENDS)
def backend_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    yield from _client(request.param, request, tmp_path_factory)


def _index(client: TestClient) -> WatchIndex:
    holder: IndexHolder = client.app.state.index_holder  # type: ignore[attr-defined]
    return holder.get()


def test_every_substance_page_answers(backend_client: TestClient) -> None:
    index = _index(backend_client)
    ids = sorted(index.by_id)
    assert len(ids) > 100
    failed = [i for i in ids if backend_client.get(f"/s/{i}").status_code != 200]
    assert failed == []


def test_substance_page_lists_nearest_controlled_neighbours(backend_client: TestClient) -> None:
    index = _index(backend_client)
    fentanyl = index.by_name["fentanyl"]
    view = pages.substance_view(index, fentanyl, date(2024, 1, 1), 0.45)
    names = [n["substance"].name for n in view["neighbours"]]
    assert len(names) == pages.NEIGHBOURS
    assert all(n["substance"].connectivity != fentanyl.connectivity for n in view["neighbours"])
    sims = [n["similarity"] for n in view["neighbours"]]
    assert sims == sorted(sims, reverse=True) and sims[0] > 0.6


@pytest.mark.parametrize("query", QUERIES)
def test_search_page_finds_similar_structures(backend_client: TestClient, query: str) -> None:
    index = _index(backend_client)
    found = pages.search(index, q=query, family=None, jurisdiction=None, on=date(2024, 1, 1))
    assert found.structure is not None
    assert len(found.similar) == pages.SIMILAR
    assert found.similar[0][1] >= 0.5
    r = backend_client.get("/", params={"q": query})
    assert r.status_code == 200 and found.similar[0][0].name in r.text


@pytest.mark.postgres
def test_both_backends_find_the_same_neighbours(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    answers = []
    for backend in ("memory", "cartridge"):
        gen = _client(backend, request, tmp_path_factory)
        client = next(gen)
        index = _index(client)
        day = date(2024, 1, 1)
        answers.append(
            (
                [
                    [
                        (s.key, sim)
                        for s, sim in pages.search(
                            index, q=q, family=None, jurisdiction=None, on=day
                        ).similar
                    ]
                    for q in QUERIES
                ],
                [
                    [
                        (n["substance"].key, n["similarity"])
                        for n in pages.substance_view(index, s, day, 0.45)["neighbours"]
                    ]
                    for s in index.snapshot.substances[::7]
                ],
            )
        )
        gen.close()
    assert answers[0] == answers[1]
