"""The JSON contract of POST /check and POST /check/batch, pinned by recorded responses.

`tests/fixtures/contract/recorded.json` was recorded from the service before the verdict
became a typed value; every answer must stay byte-for-byte the same JSON (keys, order of
verdicts and neighbours, numbers), on the in-memory search and on the PostgreSQL cartridge,
once the additive reasons and `why` of issue 18 are taken out (see `ADDED_REASONS`).
The registry is a small fixed copy (`tests/fixtures/contract/registry`) and the threshold
is the one the recording was made with (0.45), so the recording does not move when
`schedules/` grows or the default threshold changes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from service.config import Settings

CONTRACT = Path(__file__).parents[1] / "fixtures" / "contract"
QUERIES = json.loads((CONTRACT / "queries.json").read_text())
RECORDED: dict[str, Any] = json.loads((CONTRACT / "recorded.json").read_text())


@pytest.fixture(
    scope="module", params=["memory", pytest.param("cartridge", marks=pytest.mark.postgres)]
)
def contract_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    registry = CONTRACT / "registry"
    if request.param == "memory":
        url = service_database_url(tmp_path_factory.mktemp("contract"), "contract.db")
        settings = service_settings(url, schedules_dir=registry, similarity_threshold=0.45)
        with TestClient(create_app(settings)) as client:
            yield client
        return
    admin = request.getfixturevalue("pg_server")
    require_rdkit_cartridge(admin)
    name, url = new_pg_database(admin)
    try:
        migrate.upgrade(url)
        settings = Settings(
            database_url=url,
            schedules_dir=registry,
            search_backend="cartridge",
            similarity_threshold=0.45,
        )
        with TestClient(create_app(settings)) as client:
            yield client
    finally:
        drop_pg_database(name, admin)


def test_recording_covers_every_status() -> None:
    statuses = {
        v["status"]
        for name, answer in RECORDED.items()
        if name != "batch" and answer["status_code"] == 200
        for v in answer["body"]["verdicts"]
    }
    assert statuses == {"controlled", "controlled_by_class", "lookalike", "not_flagged"}


# Issue 18 added reasons after the recording (`similar_elsewhere`, `class_elsewhere`,
# `contains_controlled`, `shares_scaffold`, appended after the original ones) and `why`,
# present only on a verdict with reasons. They are additive: with them taken out every
# answer is the recording, byte for byte, and no status moved. Which pinned verdicts gained which reason is pinned here too, so a change
# in the new signals is as visible as a change in the old ones.
NEW_REASONS = ("similar_elsewhere", "class_elsewhere", "contains_controlled", "shares_scaffold")
ADDED_REASONS: dict[str, dict[str, list[str]]] = {
    # fentanyl, furanyl fentanyl and 4-ANPP carry the phenethyl-piperidinyl-aniline scaffold
    # of the fentanyls listed elsewhere (`shares_scaffold`); U-49900's 14-atom scaffold is
    # below the signal's 16
    "controlled": {"CN": ["similar_elsewhere", "shares_scaffold"]},
    "controlled_salt_by_name": {
        "EU": ["similar_elsewhere", "shares_scaffold"],
        "UK": ["similar_elsewhere", "shares_scaffold"],
        "UN": ["similar_elsewhere", "shares_scaffold"],
    },
    "lookalike": {
        "US": ["similar_elsewhere", "contains_controlled"],
        "CN": ["similar_elsewhere", "contains_controlled"],
    },
    "class_near_miss": {"US": ["class_elsewhere", "shares_scaffold"]},
}


def _without_additions(body: Any) -> tuple[Any, dict[str, list[str]]]:
    """The answer with the issue-18 additions taken out, and the reasons it added per verdict."""
    body = copy.deepcopy(body)
    added: dict[str, list[str]] = {}
    for v in body.get("verdicts", []) if isinstance(body, dict) else []:
        why = v.pop("why", None)
        new = [r for r in v["reasons"] if r in NEW_REASONS]
        old = [r for r in v["reasons"] if r not in NEW_REASONS]
        assert v["reasons"] == old + new  # appended, never interleaved
        assert (why is None) == (not v["reasons"])
        if why is not None:
            assert {e["signal"] for e in why} == set(v["reasons"])
        if new:
            added[v["jurisdiction"]] = new
        v["reasons"] = old
    return body, added


@pytest.mark.parametrize("name", sorted(QUERIES["check"]))
def test_check_answers_as_recorded(contract_client: TestClient, name: str) -> None:
    r = contract_client.post("/check", json=QUERIES["check"][name])
    body, added = _without_additions(r.json())
    assert (r.status_code, body) == (RECORDED[name]["status_code"], RECORDED[name]["body"])
    assert added == ADDED_REASONS.get(name, {})


def test_batch_answers_as_recorded(contract_client: TestClient) -> None:
    r = contract_client.post("/check/batch", json=QUERIES["batch"])
    assert (r.status_code, r.json()) == (
        RECORDED["batch"]["status_code"],
        RECORDED["batch"]["body"],
    )


def test_batch_ndjson_lines_are_the_recorded_results(contract_client: TestClient) -> None:
    r = contract_client.post(
        "/check/batch", json=QUERIES["batch"], headers={"accept": "application/x-ndjson"}
    )
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines == RECORDED["batch"]["body"]["results"]
