"""The similarity-search seam: nearest registry substances to a structure.

One protocol, two implementations: `MemorySearch` ranks the index's in-memory RDKit
fingerprints; `service.check.cartridge.CartridgeSearch` ranks in PostgreSQL with the RDKit
cartridge. Callers (the check, the pages) ask `WatchIndex.similarity` and never learn which
one runs; both answer the same neighbours with the same similarities (Tanimoto, Morgan).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from rdkit import Chem

from service.chem.fingerprints import fingerprint, tanimoto_many

if TYPE_CHECKING:
    from service.check.index import WatchIndex


@dataclass(frozen=True, slots=True)
class Hit:
    """A registry substance by id, and its Tanimoto similarity to the query (0 to 1)."""

    substance_id: int
    similarity: float


class SearchQuery(Protocol):
    """One query structure's questions to a search, answered without recomputing its fingerprint.

    `among` is a set of positions in the index's `snapshot.substances` (the index caches the
    positions controlled per jurisdiction and day).
    """

    def nearest(self, k: int, among: frozenset[int]) -> list[Hit]:
        """The k most similar substances at the positions, most similar first."""
        ...

    def may_match(self, class_id: int) -> bool:
        """False only when the query certainly lacks the class's scaffold (a prefilter)."""
        ...


class SimilaritySearch(Protocol):
    """Nearest neighbours of a structure among the registry substances of an index."""

    def query(self, index: WatchIndex, mol: Chem.Mol, smiles: str, fp: Any = None) -> SearchQuery:
        """Start answering questions about one standardized structure (`fp`: its fingerprint
        of the index's kind, when the caller has it)."""
        ...

    def nearest(
        self,
        index: WatchIndex,
        mol: Chem.Mol,
        *,
        k: int,
        threshold: float = 0.0,
        among: Collection[int] | None = None,
    ) -> list[Hit]:
        """The k most similar substances (ids in `among`, default all) at or above
        `threshold`, most similar first, ties by id."""
        ...


class MemoryQuery:
    """The query's Tanimoto similarity to every substance of the index, ranked once."""

    def __init__(self, index: WatchIndex, mol: Chem.Mol, fp: Any = None) -> None:
        if fp is None:
            fp = fingerprint(mol, index.fp_kind, index.radius, index.bits)
        self.sims = tanimoto_many(fp, index.fingerprints())
        self.ranked = sorted(range(len(self.sims)), key=self.sims.__getitem__, reverse=True)
        self.substances = index.snapshot.substances

    def nearest(self, k: int, among: frozenset[int]) -> list[Hit]:
        """The k most similar substances at the positions (ties in registry order)."""
        out: list[Hit] = []
        if k <= 0:
            return out
        for i in self.ranked:
            if i in among:
                out.append(Hit(self.substances[i].id, self.sims[i]))
                if len(out) == k:
                    break
        return out

    def may_match(self, class_id: int) -> bool:
        """Always possible: `CompiledClass.match` tests the scaffold first itself."""
        return True


class MemorySearch:
    """Ranks the fingerprints the index holds in memory."""

    def query(self, index: WatchIndex, mol: Chem.Mol, smiles: str, fp: Any = None) -> MemoryQuery:
        """Rank every substance of the index against one structure."""
        return MemoryQuery(index, mol, fp)

    def nearest(
        self,
        index: WatchIndex,
        mol: Chem.Mol,
        *,
        k: int,
        threshold: float = 0.0,
        among: Collection[int] | None = None,
    ) -> list[Hit]:
        """The k most similar substances (ids in `among`, default all) at or above `threshold`."""
        if k <= 0 or (among is not None and not among):
            return []
        fp = fingerprint(mol, index.fp_kind, index.radius, index.bits)
        sims = tanimoto_many(fp, index.fingerprints())
        subs = index.snapshot.substances
        allowed = None if among is None else set(among)
        hits = [
            Hit(subs[i].id, sim)
            for i, sim in enumerate(sims)
            if sim >= threshold and (allowed is None or subs[i].id in allowed)
        ]
        hits.sort(key=lambda h: (-h.similarity, h.substance_id))
        return hits[:k]


def nearest_to_substance(
    index: WatchIndex,
    substance_id: int,
    *,
    k: int,
    threshold: float = 0.0,
    among: Collection[int] | None = None,
) -> list[Hit]:
    """The k substances most similar to a registry substance (itself excluded)."""
    s = index.by_id[substance_id]
    ids = [i for i in (among if among is not None else index.by_id) if i != substance_id]
    return index.similarity.nearest(index, s.mol, k=k, threshold=threshold, among=ids)
