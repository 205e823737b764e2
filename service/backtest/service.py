"""Early-warning backtest: would the watchlist have flagged compounds before they were scheduled?

The experiment is time-split, with no look-ahead. For every substance S with a recorded
first appearance and a later control in jurisdiction J (a lag row of
:mod:`service.lag.service`, global basis, outcome ``individual`` or ``class``):

* **t** — the *earliest* possible day of S's first appearance (``start_earliest`` of the
  lag row: a ``2016-11`` report gives 1 November 2016, a ``2016`` one 1 January 2016). The
  registry frozen at t then holds only acts that were in force before S could possibly have
  appeared, under every reading of an imprecise date: a month-dated appearance never sees
  that month's listings as "before" it. This is the lag rule's own test for *pre-emptive*
  (a control in force on the earliest possible day), so the later-controlled set is exactly
  the lag table's individual and class rows. It is the conservative choice for recall.
* **The frozen registry** (:func:`freeze`) — substances with at least one act in force at
  t (in any jurisdiction: J's for the similarity signal, the others for the
  controlled-elsewhere signal), their acts cut to those effective on or before t; class
  definitions in force at t, their acts cut likewise; appearances up to t. A substance
  whose first appearance is after t is left out even if already listed. S is never a
  neighbour in J — it is not controlled in J at t, by definition of a later control — and
  it is in the frozen registry at all only when another jurisdiction already controlled it
  at t (that fact, known at t, is the controlled-elsewhere signal).
* **The check** — :func:`service.check.service.check_parsed`, the service's own verdict
  logic, run on a :class:`WatchIndex` built over the frozen registry at as-of t. S is
  **warned** in J when the verdict is ``controlled_by_class``, or ``lookalike`` by
  ``similarity``, ``class_near_miss`` or ``controlled_elsewhere`` (or ``controlled`` — an
  isomer or salt entry with S's skeleton already listed in J). The check runs once per
  date and fingerprint; the one threshold-dependent reason is re-derived with the check's
  own rule (the nearest neighbour controlled in J at t is at least ``threshold``-similar),
  so a sweep over thresholds costs nothing more.
* **Lead time** of a warned substance — its scheduling lag: the lag row's point value,
  control day minus the midpoint of the first-appearance interval (never below zero), with
  the range control - latest to control - earliest.
* **False alarms** — the same frozen-registry check over a background set of approved
  drugs (ChEMBL, :mod:`service.backtest.data`) minus anything in the registry (InChIKey
  connectivity) and any structural member of a class definition. The rate is computed
  per distinct t (every date at which some substance first appeared) and averaged over
  the substances tested, so each test is paired with the false-alarm rate of its own
  frozen registry; ``false_alarm_rate_now`` is the rate against the registry as of the
  as-of date, the operating condition of the live service.

Fingerprints are computed once per (substance, fingerprint) and reused across dates.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from service.check.index import WatchIndex
from service.check.service import DEFAULT_ELSEWHERE_THRESHOLD as DEFAULT_ELSEWHERE
from service.check.service import CheckOptions, check_parsed
from service.check.verdict import CheckResult, Evidence, Verdict
from service.chem import drugnames
from service.chem.fingerprints import fingerprint as make_fingerprint
from service.chem.fingerprints import tanimoto_many
from service.chem.inputs import Parsed
from service.chem.standardize import Identity, identity, parent, parse_smiles
from service.errors import UnprocessableInput, require_jurisdictions
from service.lag.service import DAYS_PER_MONTH, LagRow, lag_rows
from service.registry.snapshot import Snapshot, SubstanceFact, act_in_force, first_control

FINGERPRINTS: dict[str, tuple[str, int]] = {
    "morgan2": ("morgan", 2),
    "morgan3": ("morgan", 3),
    "feature-morgan2": ("feature-morgan", 2),
    "atom-pair": ("atom-pair", 2),
    "torsion": ("torsion", 2),
}
"""Fingerprints of the sweep: name -> (generator kind, radius; ignored by atom-pair and torsion)."""

SIGNALS = (
    "controlled_by_class",
    "similarity",
    "class_near_miss",
    "controlled_elsewhere",
    "similar_elsewhere",
    "class_elsewhere",
    "contains_controlled",
    "shares_scaffold",
)
"""The signals that count as a warning (plus ``controlled``: an isomer entry already listed)."""

ORIGINAL_SIGNALS = frozenset(
    ("controlled", "controlled_by_class", "similarity", "class_near_miss", "controlled_elsewhere")
)
"""The signals of the check before issue 18, for the before/after comparison."""

THRESHOLD_SIGNALS = ("similarity", "similar_elsewhere")
"""The signals re-derived from a similarity and a threshold; the others are fixed per verdict."""

DEFAULT_ELSEWHERE_THRESHOLD = DEFAULT_ELSEWHERE

THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(13))
"""Similarity thresholds of the sweep: 0.30 to 0.90."""

COUNTERFACTUAL_SINCE = (date(2013, 1, 1), date(2015, 1, 1), date(2017, 1, 1))
"""Default dates D of the class-law counterfactual."""

BACKGROUND_FILE = drugnames.TABLE  # ChEMBL's approved drugs, shipped in backtest/data/


def fingerprint_name(kind: str, radius: int) -> str:
    """The sweep's name of a fingerprint setting (``morgan`` radius 2 -> ``morgan2``)."""
    if kind in ("atom-pair", "torsion"):
        return kind
    return f"{kind}{radius}"


def _fp_setting(name: str) -> tuple[str, int]:
    """(generator kind, radius) of a fingerprint name; any Morgan radius 1 to 6 is accepted."""
    if name in FINGERPRINTS:
        return FINGERPRINTS[name]
    for kind in ("feature-morgan", "morgan"):
        rest = name.removeprefix(kind)
        if rest != name and rest.isdigit() and 1 <= int(rest) <= 6:
            return kind, int(rest)
    raise UnprocessableInput(
        ("query", "fingerprint"),
        f"unknown fingerprint {name!r}; one of {', '.join(FINGERPRINTS)}",
    )


# --------------------------------------------------------------------------- background set


@dataclass(frozen=True, slots=True)
class BackgroundDrug:
    """One approved drug, standardized to its parent."""

    chembl_id: str
    name: str
    mol: Any
    identity: Identity

    @property
    def connectivity(self) -> str:
        """InChIKey connectivity block of the parent."""
        return self.identity.connectivity


@lru_cache(maxsize=2)
def approved_drugs(path: Path = BACKGROUND_FILE) -> tuple[BackgroundDrug, ...]:
    """ChEMBL approved drugs as standardized parents, one per skeleton (read once per process).

    Entries that do not parse or have no organic fragment are skipped. See
    ``service/backtest/data/README.md`` for the source, citation and licence.
    """
    out: list[BackgroundDrug] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                mol = parent(parse_smiles(row["smiles"]))
                ident = identity(mol, with_inchi=False)
            except Exception:  # noqa: S112 - unparseable or inorganic entries are not background
                continue
            if ident.connectivity in seen:  # ChEMBL lists salts and stereoisomers apart
                continue
            seen.add(ident.connectivity)
            out.append(BackgroundDrug(row["molecule_chembl_id"], row["pref_name"], mol, ident))
    return tuple(out)


def background_set(snapshot: Snapshot, drugs: Iterable[BackgroundDrug]) -> list[BackgroundDrug]:
    """The drugs that are neither in the registry (by connectivity) nor members of a class."""
    known = {s.connectivity for s in snapshot.substances}
    out = []
    for d in drugs:
        if d.connectivity in known:
            continue
        if any(c.compiled.match(d.mol).member for c in snapshot.classes):
            continue
        out.append(d)
    return out


# --------------------------------------------------------------------------- frozen registry


def freeze(snapshot: Snapshot, on: date) -> Snapshot:
    """The registry as it stood on a day: what was controlled then, by acts known then.

    Keeps substances with an act in force on the day in some jurisdiction (acts cut to those
    effective on or before it) whose first appearance is not after it; class definitions
    in force on the day (acts cut likewise); appearances up to the day.
    """
    subs: list[SubstanceFact] = []
    for s in snapshot.substances:
        if s.appearances and s.appearances[0].earliest > on:
            continue  # appeared after the day: unknown then
        acts = {j: tuple(a for a in v if a.effective_date <= on) for j, v in s.acts.items()}
        if not any(act_in_force(v, on) is not None for v in acts.values()):
            continue
        s.mol  # noqa: B018 - parse once, share the molecule with the frozen copy
        subs.append(
            replace(
                s,
                acts={j: v for j, v in acts.items() if v},
                appearances=tuple(a for a in s.appearances if a.earliest <= on),
            )
        )
    classes = []
    for c in snapshot.classes:
        class_acts = tuple(a for a in c.acts if a.effective_date <= on)
        if act_in_force(class_acts, on) is not None:
            classes.append(replace(c, acts=class_acts))
    return Snapshot(
        digest=f"{snapshot.digest}@{on.isoformat()}",
        jurisdictions=dict(snapshot.jurisdictions),
        members=dict(snapshot.members),
        substances=subs,
        classes=classes,
        unencoded=[u for u in snapshot.unencoded if u.known_in_force_by <= on],
    )


class FingerprintCache:
    """Fingerprints computed once per (substance, fingerprint) and reused across dates."""

    def __init__(self, bits: int = 2048) -> None:
        self.bits = bits
        self._fps: dict[tuple[str, str], Any] = {}

    def get(self, key: str, mol: Any, name: str) -> Any:
        """The fingerprint of a molecule known by a stable key (substance InChIKey, ChEMBL id)."""
        found = self._fps.get((key, name))
        if found is None:
            kind, radius = _fp_setting(name)
            found = make_fingerprint(mol, kind, radius, self.bits)
            self._fps[(key, name)] = found
        return found


def frozen_index(frozen: Snapshot, fps: FingerprintCache, name: str) -> WatchIndex:
    """A watch index over a frozen registry, with fingerprints from the cache (no name
    tables: the backtest's queries are structures)."""
    kind, radius = _fp_setting(name)
    return WatchIndex.build(
        frozen,
        version=frozen.digest or "",
        kind=kind,
        radius=radius,
        bits=fps.bits,
        fingerprint_of=lambda s: fps.get(s.inchikey, s.mol, name),
        names=False,
    )


# --------------------------------------------------------------------------- verdicts


Enabled = frozenset[str] | None
"""The signals that count (None: all of them)."""


@dataclass(frozen=True, slots=True)
class Reduced:
    """A check verdict in one jurisdiction, reduced to what the backtest needs."""

    status: str
    fixed: tuple[str, ...]  # signals that do not depend on the threshold
    similarity: float  # nearest substance controlled in J at t (0.0 when there is none)
    nearest: dict[str, Any] | None
    class_key: str | None = None
    elsewhere: float = 0.0  # nearest other substance controlled elsewhere at t
    nearest_elsewhere: dict[str, Any] | None = None  # its name, similarity and where/since

    def signals(
        self,
        threshold: float,
        elsewhere_threshold: float = DEFAULT_ELSEWHERE,
        enabled: Enabled = None,
    ) -> list[str]:
        """Signals that fire at the thresholds (the check's rule: nearest similarity >= threshold)."""
        out = list(self.fixed)
        if self.nearest is not None and self.similarity >= threshold:
            out.append("similarity")
        if self.nearest_elsewhere is not None and self.elsewhere >= elsewhere_threshold:
            out.append("similar_elsewhere")
        if enabled is not None:
            out = [x for x in out if x in enabled]
        return sorted(out, key=_signal_order)

    def status_at(
        self,
        threshold: float,
        elsewhere_threshold: float = DEFAULT_ELSEWHERE,
        enabled: Enabled = None,
    ) -> str:
        """The check's status had it run at these thresholds."""
        if self.status in ("controlled", "controlled_by_class"):
            return self.status
        return (
            "lookalike" if self.warned(threshold, elsewhere_threshold, enabled) else "not_flagged"
        )

    def warned(
        self,
        threshold: float,
        elsewhere_threshold: float = DEFAULT_ELSEWHERE,
        enabled: Enabled = None,
    ) -> bool:
        """True when any (enabled) signal fires at the thresholds."""
        return bool(self.signals(threshold, elsewhere_threshold, enabled))


def _signal_order(s: str) -> int:
    return SIGNALS.index(s) if s in SIGNALS else len(SIGNALS)


def _fixed_signals(v: Verdict) -> list[str]:
    """The threshold-independent signals of a verdict: its controlled status, or its reasons
    that no threshold decides."""
    if v.status.is_controlled:
        return [v.status.value]
    return [r for r in v.reasons if r not in THRESHOLD_SIGNALS]


def _elsewhere_evidence(v: Verdict) -> Evidence | None:
    """The `similar_elsewhere` evidence: the backtest checks with elsewhere_threshold 0, so it
    names the nearest substance controlled in another jurisdiction."""
    return next((e for e in v.why if e.signal == "similar_elsewhere"), None)


def reduce_verdict(v: Verdict) -> Reduced:
    """Keep the status, the threshold-independent signals and the nearest neighbour."""
    near = v.neighbors[0] if v.neighbors else None
    other = _elsewhere_evidence(v)
    return Reduced(
        status=v.status.value,
        fixed=tuple(sorted(_fixed_signals(v), key=_signal_order)),
        similarity=float(near.similarity) if near else 0.0,
        nearest=near.model_dump() if near else None,
        class_key=v.class_match.key if v.class_match else None,
        elsewhere=float(other.similarity or 0.0) if other else 0.0,
        nearest_elsewhere=other.model_dump(mode="json", exclude={"detail"}) if other else None,
    )


def _background_signals(v: Verdict) -> tuple[float, float, list[str]]:
    """What the background needs of a verdict (as `reduce_verdict` reads it, without copies):
    the nearest similarity here and elsewhere (-1.0 without one) and the fixed signals."""
    here = float(v.neighbors[0].similarity) if v.neighbors else -1.0
    other = _elsewhere_evidence(v)
    return here, float(other.similarity or 0.0) if other else -1.0, _fixed_signals(v)


def _parsed(mol: Any, ident: Identity) -> Parsed:
    return Parsed(mol=mol, identity=ident, input_type="smiles")


def _check_drug(
    index: WatchIndex,
    drug: BackgroundDrug,
    options: CheckOptions,
    fps: FingerprintCache,
    fingerprint: str,
) -> CheckResult:
    """One approved drug checked against a frozen registry, its fingerprint computed once."""
    return check_parsed(
        index,
        _parsed(drug.mol, drug.identity),
        options,
        query=drug.chembl_id,
        fp=fps.get(drug.chembl_id, drug.mol, fingerprint),
    )


def _substance_parsed(s: SubstanceFact) -> Parsed:
    ident = Identity(smiles=s.smiles, inchi="", inchikey=s.inchikey, formula=s.formula)
    return _parsed(s.mol, ident)


@dataclass(slots=True)
class BackgroundAt:
    """The background set checked against one frozen registry, in one jurisdiction."""

    similarity: np.ndarray  # nearest-neighbour similarity per drug (-1.0 without neighbour)
    fixed: dict[str, np.ndarray]  # per threshold-independent signal: fired per drug
    elsewhere: np.ndarray  # nearest other substance controlled elsewhere (-1.0 without one)
    near_here: list[str] = field(default_factory=list)  # per drug: that neighbour's name, or ""
    near_elsewhere: list[str] = field(default_factory=list)  # per drug: that substance, or ""

    @property
    def n(self) -> int:
        """Number of background drugs."""
        return int(self.similarity.shape[0])

    def signal_masks(
        self, threshold: float, elsewhere_threshold: float = DEFAULT_ELSEWHERE
    ) -> dict[str, np.ndarray]:
        """Per signal: which drugs it flags at the thresholds (the one place the rule lives)."""
        return {
            **self.fixed,
            "similarity": self.similarity >= threshold,
            "similar_elsewhere": self.elsewhere >= elsewhere_threshold,
        }

    def flagged(
        self,
        threshold: float,
        elsewhere_threshold: float = DEFAULT_ELSEWHERE,
        enabled: Enabled = None,
    ) -> np.ndarray:
        """Per drug: flagged by any (enabled) signal at the thresholds."""
        out = np.zeros(self.n, dtype=bool)
        for sig, fired in self.signal_masks(threshold, elsewhere_threshold).items():
            if enabled is None or sig in enabled:
                out |= fired
        return out

    def rate(
        self,
        threshold: float,
        elsewhere_threshold: float = DEFAULT_ELSEWHERE,
        enabled: Enabled = None,
    ) -> float:
        """Share of drugs flagged by any (enabled) signal at the thresholds."""
        if self.n == 0:
            return 0.0
        return float(np.mean(self.flagged(threshold, elsewhere_threshold, enabled)))

    def signal_rate(
        self, signal: str, threshold: float, elsewhere_threshold: float = DEFAULT_ELSEWHERE
    ) -> float:
        """Share of drugs flagged by one signal at the thresholds."""
        if self.n == 0:
            return 0.0
        return self.rate(threshold, elsewhere_threshold, frozenset((signal,)))


@dataclass(slots=True)
class Trial:
    """One test: a substance S, a jurisdiction J, its lag row and the check's verdict at t."""

    row: LagRow
    verdict: Reduced
    nearest_anywhere: dict[str, Any] | None

    @property
    def t(self) -> date:
        """The day of the check: the earliest possible day of the first appearance."""
        return self.row.start_earliest


@dataclass(slots=True)
class Run:
    """Every trial and background check of one fingerprint (threshold-independent)."""

    fingerprint: str
    bits: int
    as_of: date
    codes: list[str]
    trials: list[Trial]
    background: dict[tuple[date, str], BackgroundAt]
    n_background: int
    dates: list[date] = field(default_factory=list)
    drugs: list[BackgroundDrug] = field(default_factory=list)  # the background, in array order

    def far(
        self,
        code: str,
        on: date,
        threshold: float,
        elsewhere_threshold: float = DEFAULT_ELSEWHERE,
        enabled: Enabled = None,
    ) -> float:
        """False-alarm rate in a jurisdiction against the registry frozen on a day."""
        return self.background[(on, code)].rate(threshold, elsewhere_threshold, enabled)


def later_controlled(snapshot: Snapshot, *, as_of: date, codes: Sequence[str]) -> list[LagRow]:
    """Lag rows (global basis) of substances controlled after their first appearance."""
    table = lag_rows(snapshot, as_of=as_of, basis="global", jurisdictions=list(codes))
    return [r for r in table.rows if r.outcome in ("individual", "class")]


def run(
    snapshot: Snapshot,
    *,
    as_of: date,
    fingerprint: str = "morgan2",
    bits: int = 2048,
    jurisdictions: Sequence[str] | None = None,
    background: Sequence[BackgroundDrug] | None = None,
    fps: FingerprintCache | None = None,
) -> Run:
    """Check every later-controlled substance and the background against the registry frozen at t."""
    _fp_setting(fingerprint)
    codes = (
        sorted(snapshot.jurisdictions) if not jurisdictions else [j.upper() for j in jurisdictions]
    )
    require_jurisdictions(codes, snapshot.jurisdictions)
    fps = fps or FingerprintCache(bits)
    drugs = list(background_set(snapshot, approved_drugs()) if background is None else background)
    rows = later_controlled(snapshot, as_of=as_of, codes=codes)
    by_key = {s.key: s for s in snapshot.substances}
    by_date: dict[date, list[LagRow]] = {}
    for r in rows:
        by_date.setdefault(r.start_earliest, []).append(r)
    dates = sorted(by_date)
    trials: list[Trial] = []
    bg: dict[tuple[date, str], BackgroundAt] = {}
    seen: dict[Any, date] = {}  # frozen registries that are the same state as an earlier day's
    for day in sorted({*dates, as_of}):
        frozen = freeze(snapshot, day)
        index = frozen_index(frozen, fps, fingerprint)
        # thresholds 1 and 0: the similarity signals are re-derived at any threshold later
        options = CheckOptions(
            as_of=day,
            jurisdictions=tuple(codes),
            threshold=1.0,
            top_k=1,
            elsewhere_threshold=0.0,
        )
        for r in by_date.get(day, []):
            s = by_key[r.key]
            result = check_parsed(
                index,
                _substance_parsed(s),
                replace(options, jurisdictions=(r.jurisdiction,)),
                query=s.name,
                fp=fps.get(s.inchikey, s.mol, fingerprint),
            )
            verdict = reduce_verdict(result.verdicts[0])
            trials.append(Trial(r, verdict, _nearest_anywhere(index, fps, s, fingerprint, day)))
        state = _state(frozen, day)
        if state in seen:  # nothing in force changed: the background verdicts are the same
            for c in codes:
                bg[(day, c)] = bg[(seen[state], c)]
            continue
        seen[state] = day
        sims = {c: np.zeros(len(drugs)) for c in codes}
        others = {c: np.full(len(drugs), -1.0) for c in codes}
        fixed: dict[str, dict[str, np.ndarray]] = {c: {} for c in codes}
        near_here: dict[str, list[str]] = {c: [""] * len(drugs) for c in codes}
        near_other: dict[str, list[str]] = {c: [""] * len(drugs) for c in codes}
        for i, d in enumerate(drugs):
            result = _check_drug(index, d, options, fps, fingerprint)
            for v in result.verdicts:
                c = v.jurisdiction
                sims[c][i], others[c][i], fired = _background_signals(v)
                for sig in fired:
                    fixed[c].setdefault(sig, np.zeros(len(drugs), dtype=bool))[i] = True
                if v.neighbors:
                    near_here[c][i] = v.neighbors[0].name
                other = _elsewhere_evidence(v)
                if other is not None:
                    near_other[c][i] = other.name
        for c in codes:
            bg[(day, c)] = BackgroundAt(sims[c], fixed[c], others[c], near_here[c], near_other[c])
    trials.sort(key=lambda tr: (tr.row.jurisdiction, tr.t, tr.row.name))
    return Run(
        fingerprint=fingerprint,
        bits=fps.bits,
        as_of=as_of,
        codes=codes,
        trials=trials,
        background=bg,
        n_background=len(drugs),
        dates=dates,
        drugs=drugs,
    )


def flagged_background(
    run: Run, *, threshold: float, elsewhere_threshold: float = DEFAULT_ELSEWHERE
) -> list[dict[str, Any]]:
    """Every background drug a signal flags against today's registry (the run's as-of day),
    with the jurisdictions, the signals and the listed substance each points to."""
    out: list[dict[str, Any]] = []
    today = {c: run.background[(run.as_of, c)] for c in run.codes}
    masks = {c: bg.signal_masks(threshold, elsewhere_threshold) for c, bg in today.items()}
    for i, drug in enumerate(run.drugs):
        where: dict[str, list[str]] = {}
        nearest: set[str] = set()
        for c, bg in today.items():
            fired = [sig for sig, hit in masks[c].items() if hit[i]]
            if "similarity" in fired:
                nearest.add(f"{bg.near_here[i]} ({bg.similarity[i]:.2f}, {c})")
            if "similar_elsewhere" in fired:
                nearest.add(f"{bg.near_elsewhere[i]} ({bg.elsewhere[i]:.2f}, elsewhere)")
            if fired:
                where[c] = sorted(fired, key=_signal_order)
        if where:
            out.append(
                {
                    "name": drug.name.capitalize(),
                    "chembl_id": drug.chembl_id,
                    "jurisdictions": where,
                    "nearest": sorted(nearest),
                }
            )
    return sorted(out, key=lambda r: (-len(r["jurisdictions"]), r["name"]))


def flagged_only_by(
    run: Run, signal: str, *, threshold: float, elsewhere_threshold: float = DEFAULT_ELSEWHERE
) -> int:
    """Background drugs that one signal flags today in some jurisdiction where no other does."""
    alone = np.zeros(run.n_background, dtype=bool)
    for c in run.codes:
        masks = run.background[(run.as_of, c)].signal_masks(threshold, elsewhere_threshold)
        mine = masks.get(signal)
        if mine is None:
            continue
        others = np.zeros(run.n_background, dtype=bool)
        for sig, fired in masks.items():
            if sig != signal:
                others |= fired
        alone |= mine & ~others
    return int(alone.sum())


OPIOID_LIKE = (
    "LOPERAMIDE",
    "HALOPERIDOL",
    "DROPERIDOL",
    "PIMOZIDE",
    "DEXTROMETHORPHAN",
    "NALBUPHINE",
    "BUTORPHANOL",
    "DEZOCINE",
    "NALOXONE",
    "NALTREXONE",
    "NALMEFENE",
    "LEVALLORPHAN",
    "METHYLNALTREXONE",
    "NALOXEGOL",
    "NALDEMEDINE",
    "SAMIDORPHAN",
    "ALVIMOPAN",
    "ELUXADOLINE",
)
"""Approved drugs that look like opioids but are uncontrolled in some or all jurisdictions
(antidiarrhoeals, butyrophenone neuroleptics, dextromethorphan, antagonists and mixed
agonist-antagonists), counted on their own beside the whole background."""


def opioid_like(
    snapshot: Snapshot,
    *,
    as_of: date,
    fingerprint: str = "morgan2",
    bits: int = 2048,
    threshold: float,
    elsewhere_threshold: float = DEFAULT_ELSEWHERE,
    names: Sequence[str] = OPIOID_LIKE,
) -> dict[str, Any]:
    """The service's verdicts on the named opioid-like drugs against today's registry.

    Unlike the background, a drug here may be in the registry (nalbuphine is controlled in
    China; dextromethorphan shares levomethorphan's skeleton): a jurisdiction where the check
    says controlled is not counted; every other (drug, jurisdiction) pair is, and it is a
    false alarm when flagged.
    """
    drugs = approved_drugs()

    def named(name: str) -> BackgroundDrug | None:
        # ChEMBL names a drug by its approved form: "NALOXEGOL OXALATE" is naloxegol
        return next(
            (d for d in drugs if d.name == name),
            next((d for d in drugs if d.name.startswith(name + " ")), None),
        )

    codes = sorted(snapshot.jurisdictions)
    frozen = freeze(snapshot, as_of)
    fps = FingerprintCache(bits)
    index = frozen_index(frozen, fps, fingerprint)
    options = CheckOptions(
        as_of=as_of,
        jurisdictions=tuple(codes),
        threshold=threshold,
        elsewhere_threshold=elsewhere_threshold,
        top_k=1,
    )
    rows: list[dict[str, Any]] = []
    pairs = flagged = resembling = excluded = excluded_flagged = 0
    for name in names:
        drug = named(name)
        if drug is None:
            continue
        result = _check_drug(index, drug, options, fps, fingerprint)
        cells: dict[str, str] = {}
        for v in result.verdicts:
            if v.status.is_controlled:
                cells[v.jurisdiction] = v.status.value
                continue
            pairs += 1
            # the law of J names this very drug as outside a schedule (today's registry)
            named_out = bool(snapshot.exclusions_of(result.inchikey, v.jurisdiction, as_of))
            excluded += named_out
            mark = " †" if named_out else ""
            if v.reasons:
                flagged += 1
                excluded_flagged += named_out
                resembling += any(r != "controlled_elsewhere" for r in v.reasons)
                cells[v.jurisdiction] = f"{v.status.value} ({', '.join(v.reasons)}){mark}"
            else:
                cells[v.jurisdiction] = f"{v.status.value}{mark}"
        rows.append({"name": name.capitalize(), "chembl_id": drug.chembl_id, "cells": cells})
    return {
        "codes": codes,
        "rows": rows,
        "pairs": pairs,
        "flagged": flagged,
        "rate": flagged / pairs if pairs else None,
        # flagged by a structural signal, not only because another jurisdiction lists the drug
        "resembling": resembling,
        "resembling_rate": resembling / pairs if pairs else None,
        # pairs where the jurisdiction's law names the drug as excluded, and those flagged
        "excluded": excluded,
        "excluded_flagged": excluded_flagged,
    }


def _state(frozen: Snapshot, day: date) -> tuple[Any, ...]:
    """What is in force in a frozen registry: (substance, jurisdictions) pairs and classes."""
    subs = tuple(
        (s.id, tuple(sorted(j for j, v in s.acts.items() if act_in_force(v, day) is not None)))
        for s in frozen.substances
    )
    return subs, tuple(sorted(c.key for c in frozen.classes))


def _nearest_anywhere(
    index: WatchIndex, fps: FingerprintCache, s: SubstanceFact, name: str, day: date
) -> dict[str, Any] | None:
    """The most similar substance controlled anywhere at t, other than S's own skeleton."""
    subs = index.snapshot.substances
    keep = [i for i, o in enumerate(subs) if o.connectivity != s.connectivity]
    if not keep:
        return None
    sims = tanimoto_many(fps.get(s.inchikey, s.mol, name), [index.fps[i] for i in keep])
    best = max(range(len(keep)), key=sims.__getitem__)
    o = subs[keep[best]]
    where = sorted(a.jurisdiction for a in o.controlled_anywhere(day))
    return {
        "name": o.name,
        "inchikey": o.inchikey,
        "similarity": round(sims[best], 4),
        "controlled_in": where,
    }


# --------------------------------------------------------------------------- summaries


def _months(days: float | None) -> float | None:
    return None if days is None else round(days / DAYS_PER_MONTH, 1)


def _quartiles(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        return float(values[0]), float(values[0]), float(values[0])
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def trial_dict(
    tr: Trial, threshold: float, elsewhere_threshold: float = DEFAULT_ELSEWHERE
) -> dict[str, Any]:
    """One test as plain data: the substance, its dates, the verdict at t and the lead time."""
    r, v, e = tr.row, tr.verdict, elsewhere_threshold
    return {
        "name": r.name,
        "key": r.key,
        "inchikey": r.inchikey,
        "family": r.family,
        "jurisdiction": r.jurisdiction,
        "first_appearance": r.start_date,
        "t": tr.t.isoformat(),
        "controlled": r.end_date.isoformat(),
        "control": r.outcome,
        "class_key": r.class_key,
        "citation": r.end_citation,
        "status": v.status_at(threshold, e),
        "signals": v.signals(threshold, e),
        "warned": v.warned(threshold, e),
        "lead_months": _months(r.lag_days),
        "lead_months_min": _months(r.lag_days_min),
        "lead_months_max": _months(r.lag_days_max),
        "nearest": v.nearest,
        "nearest_elsewhere": v.nearest_elsewhere,
        "nearest_anywhere": tr.nearest_anywhere,
    }


def _why(tr: Trial, threshold: float, elsewhere_threshold: float) -> str:
    v, r = tr.verdict, tr.row
    parts = []
    if v.nearest is None:
        parts.append(f"nothing was controlled in {r.jurisdiction} at t")
    else:
        parts.append(
            f"nearest controlled in {r.jurisdiction}: {v.nearest['name']} at "
            f"{v.similarity:.2f} < {threshold:.2f}"
        )
    other = v.nearest_elsewhere
    if other is not None:
        places = ", ".join(p["jurisdiction"] for p in other["where"])
        parts.append(
            f"nearest controlled elsewhere: {other['name']} ({places}) at "
            f"{v.elsewhere:.2f} < {elsewhere_threshold:.2f}"
        )
    if r.outcome == "class":
        parts.append(f"controlled later by the class definition {r.class_key}, not in force at t")
    elif not v.fixed:
        parts.append("no class definition in force covers or nearly covers it")
    if "contains_controlled" not in v.fixed:
        parts.append("it contains no substance controlled at t whole")
    if "shares_scaffold" not in v.fixed:
        parts.append("it carries no scaffold of a substance controlled at t")
    return "; ".join(parts)


def _combined(
    run: Run,
    trials: Sequence[Trial],
    code: str,
    threshold: float,
    elsewhere_threshold: float,
    enabled: Enabled,
) -> dict[str, Any]:
    """Recall, median lead and false-alarm rates (at t, today) of a set of signals together."""
    e = elsewhere_threshold
    warned = [tr for tr in trials if tr.verdict.warned(threshold, e, enabled)]
    codes = [tr.row.jurisdiction for tr in trials] if trials or code == "all" else [code]
    return {
        "n_warned": len(warned),
        "recall": _rate(len(warned), len(trials)),
        "median_lead_months": _months(_quartiles([tr.row.lag_days for tr in warned])[1]),
        "false_alarm_rate": _mean(
            [run.far(tr.row.jurisdiction, tr.t, threshold, e, enabled) for tr in trials]
        ),
        "false_alarm_rate_now": _mean(
            [run.far(c, run.as_of, threshold, e, enabled) for c in codes]
        ),
    }


def _group(
    run: Run,
    trials: Sequence[Trial],
    code: str,
    threshold: float,
    elsewhere_threshold: float = DEFAULT_ELSEWHERE,
) -> dict[str, Any]:
    e = elsewhere_threshold
    warned = [tr for tr in trials if tr.verdict.warned(threshold, e)]
    q1, med, q3 = _quartiles([tr.row.lag_days for tr in warned])
    far = _mean([run.far(tr.row.jurisdiction, tr.t, threshold, e) for tr in trials])
    # per test, like the frozen rate (a jurisdiction without tests: its own rate)
    codes = [tr.row.jurisdiction for tr in trials] if trials or code == "all" else [code]
    now_rates = [run.far(c, run.as_of, threshold, e) for c in codes]
    signals: dict[str, Any] = {}
    for sig in SIGNALS:
        fired = [tr for tr in trials if sig in tr.verdict.signals(threshold, e)]
        sig_med = _quartiles([tr.row.lag_days for tr in fired])[1]
        signals[sig] = {
            "n_fired": len(fired),
            "recall": _rate(len(fired), len(trials)),
            "median_lead_months": _months(sig_med),
            "false_alarm_rate": _mean(
                [
                    run.background[(tr.t, tr.row.jurisdiction)].signal_rate(sig, threshold, e)
                    for tr in trials
                ]
            ),
            "false_alarm_rate_now": _mean(
                [run.background[(run.as_of, c)].signal_rate(sig, threshold, e) for c in codes]
            ),
        }
    misses = []
    for tr in trials:
        if tr.verdict.warned(threshold, e):
            continue
        d = trial_dict(tr, threshold, e)
        d["why"] = _why(tr, threshold, e)
        misses.append(d)
    return {
        "jurisdiction": code,
        "n_later_controlled": len(trials),
        "n_warned": len(warned),
        "recall": _rate(len(warned), len(trials)),
        "median_lead_months": _months(med),
        "lead_q1_months": _months(q1),
        "lead_q3_months": _months(q3),
        "false_alarm_rate": far,
        "false_alarm_rate_now": _mean(now_rates),
        "n_background": run.n_background,
        "signals": signals,
        "original_signals": _combined(run, trials, code, threshold, e, ORIGINAL_SIGNALS),
        "warned": [trial_dict(tr, threshold, e) for tr in warned],
        "misses": misses,
    }


DATE_RULE = (
    "t = the earliest possible day of the first appearance (a 2016-11 report is checked on "
    "2016-11-01, a 2016 report on 2016-01-01): the frozen registry holds only acts in force "
    "before the substance could have appeared. Lead time = the scheduling lag: control day "
    "minus the midpoint of the appearance interval (not below zero), range control - latest "
    "to control - earliest."
)


def summarize(
    run: Run,
    *,
    threshold: float,
    jurisdictions: Sequence[str] | None = None,
    elsewhere_threshold: float = DEFAULT_ELSEWHERE,
) -> dict[str, Any]:
    """The backtest at one threshold: per jurisdiction, pooled, with misses (the JSON contract)."""
    codes = [j.upper() for j in jurisdictions] if jurisdictions else run.codes
    e = elsewhere_threshold
    per = [
        _group(run, [tr for tr in run.trials if tr.row.jurisdiction == c], c, threshold, e)
        for c in codes
    ]
    pooled = [tr for tr in run.trials if tr.row.jurisdiction in codes]
    return {
        "fingerprint": run.fingerprint,
        "threshold": threshold,
        "elsewhere_threshold": e,
        "as_of": run.as_of.isoformat(),
        "bits": run.bits,
        "basis": "global",
        "date_rule": DATE_RULE,
        "n_background": run.n_background,
        "background": "ChEMBL approved drugs (CC BY-SA 3.0), minus registry substances and class members",
        "dates": sorted({tr.t.isoformat() for tr in pooled}),
        "jurisdictions": per,
        "overall": _group(run, pooled, "all", threshold, e),
    }


PERIODS: tuple[tuple[str, int | None, int | None], ...] = (
    ("before 2014", None, 2013),
    ("2014-2017", 2014, 2017),
    ("2018-2021", 2018, 2021),
    ("2022 on", 2022, None),
)
"""Periods of the year of t (the first appearance) for the backtest split by time."""


def period_rows(
    run: Run, *, threshold: float, elsewhere_threshold: float = DEFAULT_ELSEWHERE
) -> list[dict[str, Any]]:
    """The backtest split by the year of t: per period, per jurisdiction and pooled (`all`).

    The signals are a fixed rule with thresholds chosen on the whole set, not a fitted model;
    the split shows whether they warn as well on the later series as on the earlier ones.
    """
    codes = sorted({tr.row.jurisdiction for tr in run.trials})
    out = []
    for label, first, last in PERIODS:
        trials = [
            tr
            for tr in run.trials
            if (first is None or tr.t.year >= first) and (last is None or tr.t.year <= last)
        ]
        groups = {
            c: _group(
                run,
                [tr for tr in trials if tr.row.jurisdiction == c],
                c,
                threshold,
                elsewhere_threshold,
            )
            for c in codes
        }
        groups["all"] = _group(run, trials, "all", threshold, elsewhere_threshold)
        out.append({"period": label, "groups": groups})
    return out


def elsewhere_rows(
    run: Run,
    *,
    threshold: float,
    elsewhere_thresholds: Sequence[float] = THRESHOLDS,
) -> list[dict[str, Any]]:
    """The curve of `similar_elsewhere`: per threshold of its own (the similarity signal at
    `threshold`), the signal alone and all signals together, per jurisdiction and pooled."""
    out = []
    codes = sorted({tr.row.jurisdiction for tr in run.trials})
    groups = [(c, [tr for tr in run.trials if tr.row.jurisdiction == c]) for c in codes]
    groups.append(("all", list(run.trials)))
    alone = frozenset(("similar_elsewhere",))
    for e in elsewhere_thresholds:
        out.append(
            {
                "elsewhere_threshold": e,
                "threshold": threshold,
                "alone": {c: _combined(run, t, c, threshold, e, alone) for c, t in groups},
                "combined": {c: _combined(run, t, c, threshold, e, None) for c, t in groups},
            }
        )
    return out


def sweep_rows(
    runs: Sequence[Run], thresholds: Sequence[float] = THRESHOLDS
) -> list[dict[str, Any]]:
    """Recall against false-alarm rate, pooled over jurisdictions, per fingerprint and threshold."""
    out = []
    for r in runs:
        codes = sorted({tr.row.jurisdiction for tr in r.trials})
        per_test = [tr.row.jurisdiction for tr in r.trials]
        for t in thresholds:
            # both similarity signals at the same threshold (`similar_elsewhere` has its own
            # curve at the service's fingerprint: elsewhere_rows)
            warned = [tr for tr in r.trials if tr.verdict.warned(t, t)]
            by_sim = [tr for tr in r.trials if "similarity" in tr.verdict.signals(t, t)]
            out.append(
                {
                    "fingerprint": r.fingerprint,
                    "threshold": t,
                    "n_later_controlled": len(r.trials),
                    "n_warned": len(warned),
                    "recall": _rate(len(warned), len(r.trials)),
                    "recall_similarity": _rate(len(by_sim), len(r.trials)),
                    "median_lead_months": _months(
                        _quartiles([tr.row.lag_days for tr in warned])[1]
                    ),
                    "false_alarm_rate": _mean(
                        [r.far(tr.row.jurisdiction, tr.t, t, t) for tr in r.trials]
                    ),
                    "false_alarm_rate_now": _mean([r.far(c, r.as_of, t, t) for c in per_test]),
                    "by_jurisdiction": {
                        c: _rate(
                            sum(
                                tr.verdict.warned(t, t)
                                for tr in r.trials
                                if tr.row.jurisdiction == c
                            ),
                            sum(tr.row.jurisdiction == c for tr in r.trials),
                        )
                        for c in codes
                    },
                }
            )
    return out


def choose(
    rows: Sequence[dict[str, Any]], *, max_false_alarm: float = 0.01
) -> dict[str, Any] | None:
    """The sweep row with the highest recall whose false-alarm rates (backtest and now) are in bound.

    Ties go to the lower current false-alarm rate, then the higher threshold.
    """
    ok = [
        r
        for r in rows
        if r["recall"] is not None
        and (r["false_alarm_rate"] or 0.0) <= max_false_alarm
        and (r["false_alarm_rate_now"] or 0.0) <= max_false_alarm
    ]
    if not ok:
        return None
    return max(ok, key=lambda r: (r["recall"], -(r["false_alarm_rate_now"] or 0.0), r["threshold"]))


# --------------------------------------------------------------------------- counterfactual


def counterfactual(
    snapshot: Snapshot,
    *,
    as_of: date,
    since: Sequence[date] = COUNTERFACTUAL_SINCE,
    jurisdictions: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Had a jurisdiction's class law been in force from an earlier day D: what would it have covered?

    For each jurisdiction with a class definition and each D before its first class act: the
    individual listings there that took effect on or after D and before the class law, which
    of them the class's structural rules cover, how many months earlier they would have been
    controlled (listing day - D), and, for those with a recorded first appearance, the lag saved
    (the lag point value, capped at listing day - D; never below zero).
    """
    codes = {j.upper() for j in jurisdictions} if jurisdictions else None
    law: dict[str, date] = {}
    for c in snapshot.classes:
        first = first_control(tuple(a for a in c.acts if a.effective_date <= as_of))
        if first is not None and (
            c.jurisdiction not in law or first.effective_date < law[c.jurisdiction]
        ):
            law[c.jurisdiction] = first.effective_date
    out: list[dict[str, Any]] = []
    for code, law_date in sorted(law.items()):
        if codes is not None and code not in codes:
            continue
        classes = [c for c in snapshot.classes if c.jurisdiction == code]
        rows = {
            r.key: r
            for r in lag_rows(snapshot, as_of=as_of, basis="global", jurisdictions=[code]).rows
        }
        listings = []
        for s in snapshot.substances:
            first = first_control(
                tuple(a for a in s.acts.get(code, ()) if a.effective_date <= as_of)
            )
            if first is None or first.effective_date >= law_date:
                continue
            covered = [c.key for c in classes if c.compiled.match(s.mol).member]
            listings.append((s, first, covered))
        for d in since:
            if d >= law_date:
                continue
            subs: list[dict[str, Any]] = []
            for s, first, covered in listings:
                if first.effective_date < d:
                    continue
                forward = (first.effective_date - d).days
                row = rows.get(s.key)
                saved = None
                lag = None
                if covered and row is not None and row.end_date == first.effective_date:
                    lag = row.lag_days
                    saved = max(min(row.lag_days, forward), 0)
                subs.append(
                    {
                        "name": s.name,
                        "key": s.key,
                        "controlled": first.effective_date.isoformat(),
                        "citation": first.citation,
                        "covered": bool(covered),
                        "class_keys": covered,
                        "months_earlier": _months(forward) if covered else None,
                        "lag_months": _months(lag),
                        "lag_months_saved": _months(saved),
                    }
                )
            cov = [x for x in subs if x["covered"]]
            saved_vals: list[float] = [
                x["lag_months_saved"] for x in cov if x["lag_months_saved"] is not None
            ]
            earlier: list[float] = [x["months_earlier"] for x in cov]
            out.append(
                {
                    "jurisdiction": code,
                    "class_law_date": law_date.isoformat(),
                    "since": d.isoformat(),
                    "n_listings": len(subs),
                    "n_covered": len(cov),
                    "months_earlier_total": round(sum(earlier), 1),
                    "months_earlier_median": _quartiles(earlier)[1],
                    "n_with_appearance": len(saved_vals),
                    "lag_months_saved_total": round(sum(saved_vals), 1),
                    "lag_months_saved_median": _quartiles(saved_vals)[1],
                    "substances": sorted(subs, key=lambda x: (x["controlled"], x["name"])),
                }
            )
    return out
