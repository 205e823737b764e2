"""The similarity-search seam: nearest registry substances to a structure.

One protocol, two implementations: `MemorySearch` ranks the index's in-memory RDKit
fingerprints; `service.check.cartridge.CartridgeSearch` ranks in PostgreSQL with the RDKit
cartridge. Callers (the check, the pages) ask `WatchIndex.similarity` and never learn which
one runs; both answer the same neighbours with the same similarities (Tanimoto, Morgan).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rdkit import Chem

from service.chem.fingerprints import fingerprint, tanimoto_many

if TYPE_CHECKING:
    from service.check.index import WatchIndex


@dataclass(frozen=True, slots=True)
class Hit:
    """A registry substance by id, and its Tanimoto similarity to the query (0 to 1)."""

    substance_id: int
    similarity: float


class SimilaritySearch(Protocol):
    """Nearest neighbours of a structure among the registry substances of an index."""

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


class MemorySearch:
    """Ranks the fingerprints the index holds in memory."""

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
