"""The in-memory watch index: identity keys, names and fingerprints of the registry.

Built once from a Snapshot; a check never re-reads the database. The holder rebuilds it
when the registry's version token changes (a load, a reported substance, a new act).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from service.check.similarity import MemorySearch, SimilaritySearch
from service.chem.fingerprints import fingerprint
from service.chem.scaffolds import Core, cores
from service.models import ClassAction, ControlAction, RegistryLoad, Substance
from service.registry.snapshot import Act, ClassFact, Snapshot, SubstanceFact

_MEMORY = MemorySearch()


@dataclass(slots=True)
class WatchIndex:
    """Lookup tables and fingerprints over one registry snapshot."""

    snapshot: Snapshot
    version: str
    fp_kind: str
    radius: int
    bits: int
    fps: list[Any] = field(default_factory=list)
    by_inchikey: dict[str, SubstanceFact] = field(default_factory=dict)
    by_connectivity: dict[str, list[SubstanceFact]] = field(default_factory=dict)
    by_name: dict[str, SubstanceFact] = field(default_factory=dict)
    by_loose_name: dict[str, SubstanceFact] = field(default_factory=dict)
    by_id: dict[int, SubstanceFact] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)  # substance id -> its position
    build_seconds: float = 0.0
    search: Any = None  # None: in memory; else a cartridge.CartridgeSearch
    _controlled: dict[tuple[str, Any], frozenset[int]] = field(default_factory=dict)
    _classes: dict[Any, tuple[tuple[ClassFact, Act], ...]] = field(default_factory=dict)
    _cores: dict[int, tuple[Core, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        snapshot: Snapshot,
        *,
        version: str = "",
        kind: str = "morgan",
        radius: int = 2,
        bits: int = 2048,
        fingerprints: bool = True,
        fingerprint_of: Callable[[SubstanceFact], Any] | None = None,
        names: bool = True,
    ) -> WatchIndex:
        """Fingerprint every substance (unless the database searches) and index names and keys.

        `fingerprint_of` supplies each substance's fingerprint from elsewhere (the backtest's
        cache); `names=False` leaves the name tables empty, for callers that ask by structure only.
        """
        t0 = time.perf_counter()
        idx = cls(snapshot=snapshot, version=version, fp_kind=kind, radius=radius, bits=bits)
        for i, s in enumerate(snapshot.substances):
            idx.positions[s.id] = i
            if fingerprint_of is not None:
                idx.fps.append(fingerprint_of(s))
            elif fingerprints:
                idx.fps.append(fingerprint(s.mol, kind, radius, bits))
            idx.by_inchikey[s.inchikey] = s
            idx.by_connectivity.setdefault(s.connectivity, []).append(s)
            idx.by_id[s.id] = s
        if names:
            idx._index_names()
        idx.build_seconds = time.perf_counter() - t0
        return idx

    def _index_names(self) -> None:
        """Names, synonyms, CAS numbers and keys; registry entries win over reported compounds,
        preferred names over synonyms."""
        ordered = sorted(
            self.snapshot.substances, key=lambda s: s.origin != "registry", reverse=True
        )
        for s in ordered:
            for name in (*s.synonyms, s.cas, s.key):
                if name:
                    self.by_name[name.casefold()] = s
        for s in ordered:
            self.by_name[s.name.casefold()] = s
        # the same names without spaces, dashes and commas ("U47700", "acetyl-fentanyl",
        # "U-47,700"); a key two substances share would guess, so it is left out
        ambiguous: set[str] = set()
        for name, s in self.by_name.items():
            key = loose_name(name)
            if key in self.by_loose_name and self.by_loose_name[key].id != s.id:
                ambiguous.add(key)
            self.by_loose_name.setdefault(key, s)
        for key in ambiguous:
            del self.by_loose_name[key]

    def fingerprints(self) -> list[Any]:
        """Fingerprints of every substance, in `snapshot.substances` order.

        An index built for the cartridge backend skips them (the database ranks the checks);
        the pages still rank in memory, so they are computed here on first use.
        """
        if len(self.fps) != len(self.snapshot.substances):
            self.fps = [
                fingerprint(s.mol, self.fp_kind, self.radius, self.bits)
                for s in self.snapshot.substances
            ]
        return self.fps

    @property
    def similarity(self) -> SimilaritySearch:
        """The similarity search of this index: in memory, or the cartridge's."""
        if self.search is None:
            return _MEMORY
        search: SimilaritySearch = self.search
        return search

    def cores(self, substance_id: int) -> tuple[Core, ...]:
        """The substance's scaffolds of two or more ring systems, largest first; computed on
        first use (a check asks only for the few substances most similar to its query)."""
        found = self._cores.get(substance_id)
        if found is None:
            found = self._cores[substance_id] = cores(self.by_id[substance_id].mol, min_atoms=0)
        return found

    def controlled_positions(self, jurisdiction: str, on: Any) -> frozenset[int]:
        """Positions (in `snapshot.substances`) of substances controlled in J on a day; cached."""
        key = (jurisdiction, on)
        found = self._controlled.get(key)
        if found is None:
            found = frozenset(
                i
                for i, s in enumerate(self.snapshot.substances)
                if s.act_in_force(jurisdiction, on) is not None
            )
            if len(self._controlled) > 4096:
                self._controlled.clear()
            self._controlled[key] = found
        return found

    def classes_in_force(self, on: Any) -> tuple[tuple[ClassFact, Act], ...]:
        """Class definitions of every jurisdiction in force on a day, with the act keeping each
        in force, in registry order; cached."""
        found = self._classes.get(on)
        if found is None:
            found = tuple(
                (c, a) for c in self.snapshot.classes if (a := c.act_in_force(on)) is not None
            )
            if len(self._classes) > 4096:
                self._classes.clear()
            self._classes[on] = found
        return found

    def controlled_anywhere_positions(self, on: Any) -> frozenset[int]:
        """Positions of substances controlled on a day in any jurisdiction; cached."""
        key = ("*", on)  # "*": no jurisdiction code is it
        found = self._controlled.get(key)
        if found is None:
            found = frozenset(
                i for i, s in enumerate(self.snapshot.substances) if _jurisdictions_in_force(s, on)
            )
            if len(self._controlled) > 4096:
                self._controlled.clear()
            self._controlled[key] = found
        return found

    def controlled_elsewhere_positions(self, jurisdiction: str, on: Any) -> frozenset[int]:
        """Positions of substances controlled on a day in some jurisdiction other than J; cached."""
        key = ("~" + jurisdiction, on)  # "~": no jurisdiction code starts with it
        found = self._controlled.get(key)
        if found is None:
            found = frozenset(
                i
                for i, s in enumerate(self.snapshot.substances)
                if any(j != jurisdiction for j in _jurisdictions_in_force(s, on))
            )
            if len(self._controlled) > 4096:
                self._controlled.clear()
            self._controlled[key] = found
        return found

    def lookup_name(self, text: str) -> SubstanceFact | None:
        """A substance by preferred name, synonym, CAS number, key or InChIKey (case-insensitive;
        a name also without its spaces, dashes and commas, where that names one substance)."""
        t = text.strip()
        return (
            self.by_name.get(t.casefold())
            or self.by_inchikey.get(t.upper())
            or self.by_loose_name.get(loose_name(t))
        )


_LOOSE = re.compile(r"[\s\-\u2010-\u2015\u2212_,]+")


def loose_name(text: str) -> str:
    """A name compared without case, spaces, dashes (hyphen, en/em dash, minus) or commas."""
    return _LOOSE.sub("", text.casefold())


def _jurisdictions_in_force(s: SubstanceFact, on: Any) -> list[str]:
    return [a.jurisdiction for a in s.controlled_anywhere(on)]


def registry_version(session: Session) -> str:
    """A cheap token that changes whenever the registry or the reported substances change."""
    parts = [
        session.execute(select(func.max(RegistryLoad.id))).scalar(),
        session.execute(select(func.max(Substance.id), func.count(col(Substance.id)))).one(),
        session.execute(
            select(func.max(ControlAction.id), func.count(col(ControlAction.id)))
        ).one(),
        session.execute(select(func.max(ClassAction.id), func.count(col(ClassAction.id)))).one(),
    ]
    return repr(parts)


class IndexHolder:
    """Holds the current index; re-checks the registry version at most every `ttl` seconds."""

    def __init__(
        self,
        engine: Engine,
        *,
        kind: str,
        radius: int,
        bits: int,
        ttl: float = 10.0,
        search_backend: str = "memory",
        sync: bool = True,
    ) -> None:
        self.engine = engine
        self.kind, self.radius, self.bits, self.ttl = kind, radius, bits, ttl
        self.search_backend = search_backend
        self.sync = sync  # False on a read-only database: the cartridge tables are used as stored
        self._index: WatchIndex | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._building = threading.Lock()  # one build at a time; a waiting caller reuses it

    def rebuild(self) -> WatchIndex:
        """Read the registry and build a fresh index now."""
        in_db = self.search_backend == "cartridge"
        if in_db:
            search = _cartridge_search(
                self.engine, self.kind, self.radius, self.bits, sync=self.sync
            )
        with Session(self.engine) as session:
            version = registry_version(session)
            snapshot = Snapshot.from_session(session)
        index = WatchIndex.build(
            snapshot,
            version=version,
            kind=self.kind,
            radius=self.radius,
            bits=self.bits,
            fingerprints=not in_db,
        )
        if in_db:
            index.search = search
        with self._lock:
            self._index = index
            self._checked = time.monotonic()
        return index

    def get(self) -> WatchIndex:
        """The current index, rebuilt first if the registry changed since it was built."""
        index = self._index
        if index is None:
            with self._building:
                # a concurrent first request may have built it while this one waited
                return self._index if self._index is not None else self.rebuild()
        if time.monotonic() - self._checked < self.ttl:
            return index
        try:
            with Session(self.engine) as session:
                version = registry_version(session)
        except OperationalError:
            # the database is away: keep answering from the index built before; the next
            # check after the TTL tries again
            self._checked = time.monotonic()
            return index
        self._checked = time.monotonic()
        return index if version == index.version else self.rebuild()

    def invalidate(self) -> None:
        """Force a version check on the next `get` (after a write in this process)."""
        self._checked = 0.0


def _cartridge_search(
    engine: Engine, kind: str, radius: int, bits: int, *, sync: bool = True
) -> Any:
    """Sync the cartridge tables (reported substances, changed settings) and return the search."""
    from service.check import cartridge
    from service.errors import AnalogwatchError

    if kind != "morgan":
        raise AnalogwatchError("search_backend=cartridge supports Morgan fingerprints only")
    with engine.begin() as conn:
        if not cartridge.installed(conn):
            raise AnalogwatchError(
                "search_backend=cartridge needs PostgreSQL with the rdkit extension and the "
                "cartridge tables (`analogwatch db upgrade` after installing postgresql-NN-rdkit)"
            )
        if sync:
            cartridge.sync_structures(conn, radius=radius, bits=bits)
    return cartridge.CartridgeSearch(engine, radius=radius, bits=bits)
