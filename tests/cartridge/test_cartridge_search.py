"""The RDKit cartridge path gives the same neighbours and verdicts as the in-memory index.

Runs on PostgreSQL with the `rdkit` extension (Debian's postgresql-15-rdkit; CI installs
it). The whole shipped registry is loaded once; every registry substance, a generated
sample of drug-like compounds and known analogs are checked on several days through both
paths, and the results must be equal: same statuses, same matched entries and class
clauses, same neighbours in the same order with the same similarities.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rdkit import Chem, DataStructs
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from service import migrate
from service import runtime
from service.check import cartridge
from service.check.index import IndexHolder, WatchIndex
from service.check.service import CheckOptions, check
from service.chem.fingerprints import fingerprint
from service.config import Settings
from service.errors import AnalogwatchError
from service.paths import schedules_dir

pytestmark = pytest.mark.postgres

BENCH = Path(__file__).parents[2] / "bench" / "check_bench.py"
DAYS = [date(2016, 6, 1), date(2019, 6, 1), date(2026, 1, 1)]
ANALOGS = [
    "CCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1",  # p-chloro butyrfentanyl, US class D+E
    "CCC(=O)N(c1ccccc1)C1CCN(CCc2cccs2)CC1",  # thiofentanyl-like
    "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1",  # etonitazene
    "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2ccccc21",  # a des-nitro nitazene
    "CN(C)C1CCCCC1N(C)C(=O)c1ccc(Cl)c(Cl)c1",  # U-47700
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
]


def _generate(n: int) -> list[str]:
    spec = importlib.util.spec_from_file_location("check_bench", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(mod.generate(n, seed=11))


@pytest.fixture(scope="module")
def pg_engine(pg_server: str) -> Iterator[Engine]:
    """A fresh PostgreSQL database at head with the shipped registry loaded and synced."""
    name = f"aw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        available = conn.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'rdkit'")
        ).first()
        if available is None:
            admin.dispose()
            if os.environ.get("ANALOGWATCH_REQUIRE_POSTGRES") == "1":
                pytest.fail("the RDKit cartridge (postgresql-NN-rdkit) is required in CI")
            pytest.skip("PostgreSQL has no rdkit extension (install postgresql-15-rdkit)")
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        settings = Settings(
            database_url=url, schedules_dir=schedules_dir(), search_backend="cartridge"
        )
        eng = runtime.open_writable(settings).engine
        with eng.connect() as conn:
            if not cartridge.installed(conn):
                pytest.fail("rdkit is available but migration 0003 made no cartridge tables")
        yield eng
        eng.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def indexes(pg_engine: Engine) -> tuple[WatchIndex, WatchIndex]:
    memory = IndexHolder(pg_engine, kind="morgan", radius=2, bits=2048).rebuild()
    in_db = IndexHolder(
        pg_engine, kind="morgan", radius=2, bits=2048, search_backend="cartridge"
    ).rebuild()
    assert memory.search is None
    assert isinstance(in_db.search, cartridge.CartridgeSearch)
    assert in_db.fps == []  # the database ranks; no fingerprints held in memory
    return memory, in_db


def test_load_fills_the_cartridge_tables(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        subs = conn.execute(text("SELECT count(*) FROM substances")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT count(*), count(mol), min(fp_bits), max(fp_radius)"
                " FROM substance_structures"
            )
        ).one()
        classes = conn.execute(text("SELECT count(*) FROM class_definitions")).scalar_one()
        scaffolds = conn.execute(
            text("SELECT count(*), count(scaffold) FROM class_scaffolds")
        ).one()
        again = cartridge.sync_structures(conn, radius=2, bits=2048)
    assert subs > 100
    assert tuple(rows) == (subs, subs, 2048, 2)
    assert tuple(scaffolds) == (classes, classes)
    assert again == {"structures": 0, "scaffolds": 0}  # in sync: nothing rewritten


def test_stored_bits_are_the_cartridges_own_morgan_bits(pg_engine: Engine) -> None:
    """The stored fingerprints are the application's; the cartridge's morganbv_fp agrees."""
    with pg_engine.connect() as conn:
        conn.execute(text("SET rdkit.morgan_fp_size = 2048"))
        rows = conn.execute(
            text(
                "SELECT s.smiles, bfp_to_binary_text(st.mfp),"
                " bfp_to_binary_text(morganbv_fp(st.mol, 2))"
                " FROM substance_structures st JOIN substances s ON s.id = st.substance_id"
            )
        ).all()
    differ = []
    for smiles, stored, own in rows:
        ours = DataStructs.BitVectToBinaryText(fingerprint(Chem.MolFromSmiles(smiles)))
        assert bytes(stored) == bytes(ours)
        if bytes(own) != bytes(ours):
            differ.append(smiles)
    assert differ == []


def test_similarities_equal_bulk_tanimoto(pg_engine: Engine) -> None:
    """Tanimoto in the database equals RDKit's BulkTanimotoSimilarity to 1e-12, unrounded."""
    queries = ANALOGS + _generate(20)
    with pg_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.smiles, st.mfp FROM substance_structures st"
                " JOIN substances s ON s.id = st.substance_id"
            )
        ).all()
        reg = [fingerprint(Chem.MolFromSmiles(smi)) for smi, _ in rows]
        for q in queries:
            fp = fingerprint(Chem.MolFromSmiles(q))
            expected = DataStructs.BulkTanimotoSimilarity(fp, reg)
            got = conn.execute(
                text(
                    "SELECT tanimoto_sml(st.mfp, bfp_from_binary_text(:fp))"
                    " FROM substance_structures st"
                    " JOIN substances s ON s.id = st.substance_id"
                ),
                {"fp": cartridge.fingerprint_bytes(Chem.MolFromSmiles(q), 2, 2048)},
            ).scalars()
            assert list(got) == pytest.approx(expected, abs=1e-12)


def test_both_paths_give_the_same_verdicts_and_neighbours(
    indexes: tuple[WatchIndex, WatchIndex],
) -> None:
    memory, in_db = indexes
    queries = [s.smiles for s in memory.snapshot.substances] + ANALOGS + _generate(60)
    compared = flagged = 0
    for day in DAYS:
        options = CheckOptions(as_of=day, top_k=5)
        for q in queries if day == DAYS[-1] else queries[::4]:
            a, b = check(memory, q, options), check(in_db, q, options)
            assert a == b, q
            compared += 1
            flagged += sum(v.status != "not_flagged" for v in a.verdicts)
    assert compared > 250
    assert flagged > 500  # the comparison covers every status, not only not_flagged
    statuses = {
        v.status
        for q in ANALOGS
        for v in check(in_db, q, CheckOptions(as_of=DAYS[-1])).verdicts
    }
    assert statuses >= {"controlled", "controlled_by_class", "lookalike", "not_flagged"}


def test_a_check_asks_the_database_on_one_connection_in_two_statements(
    indexes: tuple[WatchIndex, WatchIndex],
) -> None:
    """Every nearest question of a check (a dozen: neighbours per jurisdiction, nearest
    elsewhere, containment candidates) is answered by one ranking; with the scaffold prefilter
    that is two statements on one pooled connection, whatever the query."""
    memory, in_db = indexes
    engine = in_db.search._engine
    statements: list[str] = []
    checkouts: list[int] = []

    def count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def checkout(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        checkouts.append(1)

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine.pool, "checkout", checkout)
    try:
        for q in [ANALOGS[0], ANALOGS[4], ANALOGS[5], memory.snapshot.substances[0].smiles]:
            statements.clear()
            checkouts.clear()
            result = check(in_db, q, CheckOptions(as_of=DAYS[-1]))
            assert result == check(memory, q, CheckOptions(as_of=DAYS[-1])), q
            assert len(statements) == 2, (q, statements)
            assert any("tanimoto_sml" in s for s in statements)
            assert any("class_scaffolds" in s for s in statements)
            assert len(checkouts) == 1, q
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine.pool, "checkout", checkout)


def test_registry_substructure_search_matches_rdkit(indexes: tuple[WatchIndex, WatchIndex]) -> None:
    memory, in_db = indexes
    for smarts in ["c1ccccc1N(C(=O))C1CCNCC1", "c1nc2ccccc2n1", "CN(C)C1CCCCC1N"]:
        patt = Chem.MolFromSmarts(smarts)
        expected = sorted(s.id for s in memory.snapshot.substances if s.mol.HasSubstructMatch(patt))
        assert expected
        assert in_db.search.substructure_ids(smarts) == expected


def test_cartridge_backend_refuses_a_database_without_it(sqlite_engine: Engine) -> None:
    holder = IndexHolder(
        sqlite_engine, kind="morgan", radius=2, bits=2048, search_backend="cartridge"
    )
    with pytest.raises(AnalogwatchError, match="rdkit extension"):
        holder.rebuild()


def test_setting_requires_postgresql() -> None:
    with pytest.raises(ValueError, match="cartridge needs a postgresql"):
        Settings(database_url="sqlite:///x.db", search_backend="cartridge")


def test_http_check_in_the_database_answers_like_memory_off_the_event_loop(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /check with the cartridge backend gives the in-memory answer, and its database
    query runs in a worker thread, never on the event loop that serves other requests."""
    import asyncio

    from fastapi.testclient import TestClient

    from service.app import create_app

    url = pg_engine.url.render_as_string(hide_password=False)
    on_loop: list[bool] = []
    original = cartridge.CartridgeSearch.query

    def spying_query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cartridge.CartridgeSearch, "query", spying_query)
    body = {"structure": ANALOGS[0], "as_of": "2026-01-01", "top_k": 5}
    answers = []
    for backend in ("memory", "cartridge"):
        settings = Settings(database_url=url, schedules_dir=schedules_dir(), search_backend=backend)
        with TestClient(create_app(settings)) as client:
            r = client.post("/check", json=body)
            assert r.status_code == 200
            answers.append(r.json())
    assert answers[0] == answers[1]
    assert {v["status"] for v in answers[1]["verdicts"]} >= {"controlled_by_class"}
    assert on_loop == [False]
