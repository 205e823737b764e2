"""Similarity and class-scaffold search in PostgreSQL with the RDKit cartridge.

The alternative to the in-memory search of :mod:`service.check.index`, chosen by
`ANALOGWATCH_SEARCH_BACKEND=cartridge`. The verdict logic stays in
:func:`service.check.service.check_parsed`; only two questions move into the database:

* the similarity (Tanimoto, Morgan) of every substance to the query, ranked by the `<%>`
  distance operator on `substance_structures.mfp`: fetched once per query, the ranking
  answers every nearest question of the check (the k nearest controlled in J on d for each
  jurisdiction, the nearest controlled elsewhere, the containment candidates);
* which class scaffolds the query contains (`mol @> qmol` on `class_scaffolds`), the
  prefilter before the class rules, which still run in Python.

Both are asked on one connection, by the first question a check puts: two statements per
query. (A statement per question, k-nearest scans on the GiST index, cost 12 round trips
and a pool checkout each: 17 ms a check against 3.6 ms now, on 500 drug-like structures and
the registry of 223 substances. At that size a full ranking costs less than one scan per
question; a registry of a hundred thousand substances would want the scans back.)
`CartridgeSearch.nearest`, the pages' one-off question, still runs one k-nearest scan.

Both paths give the same answers: the stored fingerprints are the application's own bits
(:func:`fingerprint_bytes`, the settings' radius and size), not the cartridge's
`morganbv_fp`, so a cartridge built on another RDKit version cannot disagree; ties are
broken by substance id as the in-memory ranking does (tests/cartridge/).

Tables (revision 0003) exist only where the extension does; :func:`sync_structures` fills
them after a registry load and whenever an index is rebuilt (reported substances).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from rdkit import Chem, DataStructs
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from service.check.similarity import Hit
from service.chem.fingerprints import fingerprint

CARTRIDGE_TABLES = frozenset({"substance_structures", "class_scaffolds"})


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic autogenerate filter: never reflect the cartridge tables (unknown column types)."""
    return not (type_ == "table" and name in CARTRIDGE_TABLES)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic autogenerate filter: the cartridge tables and their indexes are not models."""
    if type_ == "table" and name in CARTRIDGE_TABLES:
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and getattr(table, "name", None) in CARTRIDGE_TABLES)


def installed(conn: Connection) -> bool:
    """True when this database has the cartridge tables of revision 0003."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(text("SELECT to_regclass('substance_structures') IS NOT NULL")).scalar()
    return bool(found)


def fingerprint_bytes(mol: Chem.Mol, radius: int, bits: int) -> bytes:
    """Morgan bit vector as RDKit binary text, the input of the cartridge's bfp_from_binary_text."""
    return bytes(DataStructs.BitVectToBinaryText(fingerprint(mol, "morgan", radius, bits)))


_UPSERT_STRUCTURE = text(
    """
    INSERT INTO substance_structures (substance_id, smiles, fp_radius, fp_bits, mol, mfp)
    VALUES (:id, :smiles, :radius, :bits, mol_from_smiles(CAST(CAST(:smiles AS text) AS cstring)),
            bfp_from_binary_text(:fp))
    ON CONFLICT (substance_id) DO UPDATE SET
        smiles = EXCLUDED.smiles, fp_radius = EXCLUDED.fp_radius, fp_bits = EXCLUDED.fp_bits,
        mol = EXCLUDED.mol, mfp = EXCLUDED.mfp
    """
)
_UPSERT_SCAFFOLD = text(
    """
    INSERT INTO class_scaffolds (class_id, smarts, scaffold)
    VALUES (:id, :smarts, qmol_from_smarts(CAST(CAST(:smarts AS text) AS cstring)))
    ON CONFLICT (class_id) DO UPDATE SET smarts = EXCLUDED.smarts, scaffold = EXCLUDED.scaffold
    """
)


def sync_structures(conn: Connection, *, radius: int, bits: int) -> dict[str, int]:
    """Bring the cartridge tables up to date with `substances` and `class_definitions`.

    Writes only rows whose structure, scaffold or fingerprint settings changed (rows of
    deleted substances and classes go by ON DELETE CASCADE). Returns the counts written;
    an empty dict where the cartridge is not installed. Runs in the caller's transaction.
    """
    if not installed(conn):
        return {}
    from service.chem.standardize import parse_smiles

    rows = conn.execute(
        text(
            "SELECT s.id, s.smiles, st.smiles, st.fp_radius, st.fp_bits FROM substances s"
            " LEFT JOIN substance_structures st ON st.substance_id = s.id ORDER BY s.id"
        )
    ).all()
    stale = [
        {"id": sid, "smiles": smi, "radius": radius, "bits": bits}
        for sid, smi, old, r, b in rows
        if old != smi or r != radius or b != bits
    ]
    for p in stale:
        p["fp"] = fingerprint_bytes(parse_smiles(p["smiles"]), radius, bits)
    if stale:
        conn.execute(_UPSERT_STRUCTURE, stale)
    classes = conn.execute(
        text(
            "SELECT c.id, c.rules, cs.smarts FROM class_definitions c"
            " LEFT JOIN class_scaffolds cs ON cs.class_id = c.id ORDER BY c.id"
        )
    ).all()
    scaffolds = []
    for cid, rules, old in classes:
        smarts = (json.loads(rules) if isinstance(rules, str) else rules).get("scaffold", "")
        if smarts != old:
            scaffolds.append({"id": cid, "smarts": smarts})
    if scaffolds:
        conn.execute(_UPSERT_SCAFFOLD, scaffolds)
    return {"structures": len(stale), "scaffolds": len(scaffolds)}


_NEAREST = text(
    """
    SELECT substance_id, tanimoto_sml(mfp, q.fp) AS similarity
    FROM substance_structures, (SELECT bfp_from_binary_text(:fp) AS fp) AS q
    WHERE substance_id = ANY(:ids)
    ORDER BY mfp <%> q.fp, substance_id
    LIMIT :k
    """
)
# every substance ranked for one query, most similar first, as the k-nearest scan above orders
# them: one statement answers all the questions of a check (service.check.service asks about a
# dozen per query: neighbours per jurisdiction, the nearest elsewhere, containment candidates)
_RANKING = text(
    """
    SELECT substance_id, tanimoto_sml(mfp, q.fp) AS similarity
    FROM substance_structures, (SELECT bfp_from_binary_text(:fp) AS fp) AS q
    ORDER BY mfp <%> q.fp, substance_id
    """
)
_SCAFFOLDS = text(
    """
    WITH q AS (SELECT mol_from_smiles(CAST(CAST(:smiles AS text) AS cstring)) AS m)
    SELECT (SELECT m IS NULL FROM q) AS unreadable,
           array(SELECT class_id FROM class_scaffolds, q
                 WHERE scaffold IS NULL OR q.m @> scaffold) AS classes
    """
)
_SUBSTRUCTURE = text(
    "SELECT substance_id FROM substance_structures"
    " WHERE mol @> qmol_from_smarts(CAST(CAST(:smarts AS text) AS cstring)) ORDER BY substance_id"
)


class CartridgeSearch:
    """Runs the similarity ranking and the scaffold prefilter in PostgreSQL.

    Safe across fork: a process that did not create it opens its own engine.
    """

    def __init__(self, engine: Engine, *, radius: int, bits: int) -> None:
        self._url = engine.url
        self._engine = engine
        self._pid = os.getpid()
        self.radius, self.bits = radius, bits

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection of this process's engine."""
        if os.getpid() != self._pid:
            from service.db import make_engine

            self._engine = make_engine(self._url.render_as_string(hide_password=False))
            self._pid = os.getpid()
        with self._engine.connect() as conn:
            yield conn

    def query(self, index: Any, mol: Chem.Mol, smiles: str, fp: Any = None) -> CartridgeQuery:
        """Start answering questions about one standardized query structure (the database
        computes its own fingerprint; `fp` is not needed)."""
        return CartridgeQuery(self, index, mol, smiles)

    def nearest(
        self,
        index: Any,
        mol: Chem.Mol,
        *,
        k: int,
        threshold: float = 0.0,
        among: Collection[int] | None = None,
    ) -> list[Hit]:
        """The k most similar substances (ids in `among`, default all) at or above `threshold`."""
        if k <= 0 or (among is not None and not among):
            return []
        params = {
            "fp": fingerprint_bytes(mol, self.radius, self.bits),
            "ids": sorted(among) if among is not None else sorted(index.by_id),
            "k": k,
        }
        with self.connect() as conn:
            rows = conn.execute(_NEAREST, params).all()
        # the ranking rounds nothing: keep the similarities RDKit's BulkTanimoto gives
        return [Hit(sid, float(sim)) for sid, sim in rows if float(sim) >= threshold]

    def substructure_ids(self, smarts: str) -> list[int]:
        """Ids of registry substances containing a SMARTS pattern (GiST on `mol`)."""
        with self.connect() as conn:
            return [r[0] for r in conn.execute(_SUBSTRUCTURE, {"smarts": smarts})]


class CartridgeQuery:
    """One query structure against the database: the first question fetches, on one
    connection, the ranking of every substance (it answers all the nearest questions of the
    check) and the class scaffolds the query contains (the prefilter)."""

    def __init__(self, search: CartridgeSearch, index: Any, mol: Chem.Mol, smiles: str) -> None:
        self.search, self.index, self.mol, self.smiles = search, index, mol, smiles
        self._ranking: list[tuple[int, Hit]] | None = None
        self._classes: frozenset[int] | None = None
        self._unreadable = False

    def nearest(self, k: int, among: frozenset[int]) -> list[Hit]:
        """The k most similar substances at the positions, in the order PostgreSQL ranked them."""
        if k <= 0 or not among:
            return []
        out: list[Hit] = []
        for position, hit in self._ranked():
            if position in among:
                out.append(hit)
                if len(out) == k:
                    break
        return out

    def _ranked(self) -> list[tuple[int, Hit]]:
        """Every substance of the index the database has, most similar first, with its position
        in `snapshot.substances`."""
        if self._ranking is None:
            self._ask()
        assert self._ranking is not None
        return self._ranking

    def may_match(self, class_id: int) -> bool:
        """False only when the database says the query lacks the class's scaffold."""
        if self._classes is None:
            self._ask()
        assert self._classes is not None
        return self._unreadable or class_id in self._classes

    def _ask(self) -> None:
        """Both questions of a check on one connection (a pool checkout costs about as much as
        a statement): the ranking of every substance and the class scaffolds the query has."""
        fp = fingerprint_bytes(self.mol, self.search.radius, self.search.bits)
        with self.search.connect() as conn:
            rows = conn.execute(_RANKING, {"fp": fp}).all()
            unreadable, classes = conn.execute(_SCAFFOLDS, {"smiles": self.smiles}).one()
        # the ranking rounds nothing: keep the similarities RDKit's BulkTanimoto gives
        at = self.index.positions
        self._ranking = [(at[sid], Hit(sid, float(sim))) for sid, sim in rows if sid in at]
        self._unreadable = bool(unreadable)
        self._classes = frozenset(classes or ())
