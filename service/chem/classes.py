"""Class-wide (generic) control definitions: schema of a class TOML's ``[rules]`` and matching.

A generic definition says: "a substance is controlled when it is the parent compound
modified by one or more of these modifications, and nothing else". SMARTS alone cannot say
"monocycle" or "only substituents from this list", so a definition is decomposed into

* ``scaffold`` - a SMARTS whose atom-mapped atoms are the *core*: the part every member
  keeps. It is also the cheap prefilter: a molecule without it is neither a member nor a
  near miss, and costs one substructure test.
* ``regions`` - what may hang off the core. After the scaffold match, every atom outside
  the core belongs to a connected piece attached to the core. Each piece is claimed by one
  region and checked against it: the parent's own group (no modification), a permitted
  replacement (a clause), or a violation (outside every permitted modification).
* ``groups`` - named substituent types (alkyl, halo, ester, ...) written as data: an anchor
  SMARTS at the attachment point (``[#0]`` is the cut bond), an atom SMARTS every atom of
  the group must satisfy, and optional required / forbidden SMARTS.
* ``clauses`` - the legal modifications, each with its key ("A", "E", "1", ...) and text.
* ``parent`` - the parent compound. It must match with no modification; a molecule that
  does is reported as ``is_parent`` and not as a member (the parent is listed on its own).
* ``exclusions`` - substances the definition itself names as excluded (by SMILES).
* ``max_molecular_weight`` - an upper limit on the molecular mass the definition itself sets
  (e.g. the UK nitazene definition: "a maximum molecular mass of 500 atomic mass units").
  The average molecular weight of the standardized parent is compared with it; a heavier
  molecule that has the core is a near miss.
* ``near_miss_note`` - a sentence appended to every near-miss reason, e.g. to say that the
  legal text was only read in part and a near miss may be covered by a clause not encoded.

Two options widen what a region or a group can say:

* a ``substituents`` region with ``ring_through_atom = true`` also claims a piece bonded two
  or more times to one and the same of its ``on`` atoms - that atom "included in a cyclic
  structure" (a pyrrolidine or piperidine built on an amine nitrogen) - under its clause.
  A piece bonded to two *different* core atoms is still a ring closed onto the core.
* a group's ``max_carbons`` limits its number of carbon atoms ("alkyl substituents
  containing up to three carbon atoms"); ``max_atoms`` counts every heavy atom.

A piece that is attached to the core at two places (a ring closure the definition does not
describe), an unclaimed piece, or a substituent of a type no clause permits makes the
molecule a near miss, with the reason. Matching is on the standardized parent
(:func:`service.chem.standardize.parent`); salts and charges are the caller's job.

All SMARTS are compiled once by :func:`compile_class`; :meth:`CompiledClass.match` is
thread-safe and its answer depends on the molecule only. It remembers what it found out
about each substituent (its canonical SMILES, which groups it is), keyed by the
substituent's atoms and bonds, so the next molecule carrying the same group skips the cut
and the group SMARTS; at most ``_PIECES_REMEMBERED`` per definition, never pickled.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors

from service.chem.standardize import parent, parse_smiles

__all__ = [
    "ClassMatch",
    "ClassRulesError",
    "ClauseHit",
    "CompiledClass",
    "compile_class",
    "match_smiles",
    "validate_rules",
]

_MAX_SCAFFOLD_MATCHES = 64
_PIECES_REMEMBERED = 20_000  # substituents remembered per class definition, all forgotten when full
_REGION_KINDS = ("group", "ring", "substituents", "chain_ring")
_ANY = "any"

_TOP_KEYS = {
    "scaffold": "SMARTS of the core, core atoms carry atom-map numbers",
    "parent": "SMILES of the parent compound",
    "clauses": "list of {key, description}",
    "regions": "list of region tables",
    "groups": "table of named substituent groups",
    "exclusions": "list of {name, smiles, reason}",
    "notes": "free text",
    "max_molecular_weight": "upper limit on the average molecular weight of the parent",
    "near_miss_note": "sentence appended to every near-miss reason",
}
_CLAUSE_KEYS = {"key", "description"}
_GROUP_KEYS = {
    "description",
    "anchor",
    "atoms",
    "acyclic",
    "max_atoms",
    "max_carbons",
    "require",
    "forbid",
}
_EXCLUSION_KEYS = {"name", "smiles", "reason"}
_REGION_KEYS: dict[str, set[str]] = {
    "group": {
        "name",
        "kind",
        "at",
        "select",
        "reference",
        "required",
        "absent_reason",
        "allowed",
        "clause",
    },
    "ring": {
        "name",
        "kind",
        "at",
        "select",
        "reference",
        "required",
        "absent_reason",
        "require_monocycle",
        "require_aromatic",
        "clause",
    },
    "substituents": {"name", "kind", "on", "allowed", "clause", "ring_through_atom"},
    "chain_ring": {
        "name",
        "kind",
        "at",
        "required",
        "absent_reason",
        "chain_length",
        "chain_atom",
        "chain_allowed",
        "chain_clause",
        "reference_ring",
        "ring_require_monocycle",
        "ring_require_aromatic",
        "ring_clause",
        "reference_ring_allowed",
        "reference_ring_clause",
        "substituted_reference_ring_is_replacement",
        "ambiguity_note",
    },
}
_REGION_REQUIRED: dict[str, set[str]] = {
    "group": {"name", "kind", "at", "reference", "allowed", "clause"},
    "ring": {"name", "kind", "at", "reference", "clause"},
    "substituents": {"name", "kind", "on", "allowed", "clause"},
    "chain_ring": {
        "name",
        "kind",
        "at",
        "chain_length",
        "chain_allowed",
        "chain_clause",
        "reference_ring",
        "ring_clause",
        "reference_ring_allowed",
        "reference_ring_clause",
    },
}


class ClassRulesError(ValueError):
    """The ``[rules]`` table of a class definition is invalid; ``problems`` lists every reason."""

    def __init__(self, key: str, problems: Sequence[str]) -> None:
        self.key = key
        self.problems = list(problems)
        super().__init__(f"class {key!r}: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class ClauseHit:
    """One permitted modification present in a molecule: clause key, legal text, atoms."""

    key: str
    description: str
    atoms: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ClassMatch:
    """Result of matching one molecule against one class definition.

    ``member`` - the molecule is the parent modified by one or more permitted
    modifications and nothing else (structurally; listing elsewhere is the caller's check).
    ``clauses`` - the modifications present, by clause key. ``core_atoms`` - atom indices
    of the matched core. ``near_miss`` - the core is present but something falls outside
    every permitted modification; ``near_miss_reason`` says what. ``is_parent`` - the
    molecule is the parent compound itself. ``notes`` - legal ambiguities the decision
    relied on. ``excluded_by`` - name of a listed exclusion the molecule is.
    """

    key: str
    member: bool
    clauses: tuple[ClauseHit, ...] = ()
    core_atoms: tuple[int, ...] = ()
    near_miss: bool = False
    near_miss_reason: str | None = None
    is_parent: bool = False
    notes: tuple[str, ...] = ()
    excluded_by: str | None = None

    @property
    def clause_keys(self) -> frozenset[str]:
        """Keys of the clauses present, e.g. ``frozenset({"A", "C"})``."""
        return frozenset(hit.key for hit in self.clauses)


# --------------------------------------------------------------------------- validation


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _smarts_problem(path: str, value: Any, *, need_dummy: bool = False) -> str | None:
    if not _is_str(value):
        return f"{path}: must be a non-empty SMARTS string"
    with rdBase.BlockLogs():  # the problem text replaces RDKit's log line
        query = Chem.MolFromSmarts(value)
    if query is None:
        return f"{path}: does not parse as SMARTS"
    if need_dummy and not value.lstrip().startswith("[#0]"):
        return f"{path}: must start with the attachment point [#0]"
    return None


def _smiles_problem(path: str, value: Any) -> str | None:
    if not _is_str(value):
        return f"{path}: must be a non-empty SMILES string"
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(value)
    if mol is None:
        return f"{path}: does not parse as SMILES"
    return None


def _unknown_keys(path: str, table: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    allowed_set = set(allowed)
    return [f"{path}.{k}: unknown key" for k in table if k not in allowed_set]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def validate_rules(rules: Any) -> list[str]:
    """Return every problem in a ``[rules]`` table, each as ``"<field path>: <reason>"``.

    An empty list means the rules compile. Structural checks come first; when they pass,
    the parent compound is matched and must come out as the unmodified parent.
    """
    if not isinstance(rules, Mapping):
        return ["rules: must be a table"]
    problems: list[str] = _unknown_keys("rules", rules, _TOP_KEYS)

    map_numbers: set[int] = set()
    scaffold = rules.get("scaffold")
    if scaffold is None:
        problems.append("rules.scaffold: missing")
    else:
        problem = _smarts_problem("rules.scaffold", scaffold)
        if problem:
            problems.append(problem)
        else:
            query = Chem.MolFromSmarts(scaffold)
            map_numbers = {a.GetAtomMapNum() for a in query.GetAtoms() if a.GetAtomMapNum()}
            if not map_numbers:
                problems.append("rules.scaffold: no atom-mapped core atoms (write [#6:1] ...)")

    if "parent" not in rules:
        problems.append("rules.parent: missing")
    else:
        problem = _smiles_problem("rules.parent", rules["parent"])
        if problem:
            problems.append(problem)

    clause_keys: set[str] = set()
    clauses = rules.get("clauses")
    if not isinstance(clauses, list) or not clauses:
        problems.append("rules.clauses: must be a non-empty list of {key, description}")
    else:
        for i, clause in enumerate(clauses):
            path = f"rules.clauses[{i}]"
            if not isinstance(clause, Mapping):
                problems.append(f"{path}: must be a table")
                continue
            problems += _unknown_keys(path, clause, _CLAUSE_KEYS)
            key = clause.get("key")
            if not _is_str(key):
                problems.append(f"{path}.key: must be a non-empty string")
            elif key in clause_keys:
                problems.append(f"{path}.key: duplicate clause key {key!r}")
            else:
                clause_keys.add(str(key))
            if not _is_str(clause.get("description")):
                problems.append(f"{path}.description: must be a non-empty string")

    group_names: set[str] = set()
    groups = rules.get("groups", {})
    if not isinstance(groups, Mapping):
        problems.append("rules.groups: must be a table of named groups")
        groups = {}
    for name, group in groups.items():
        path = f"rules.groups.{name}"
        group_names.add(name)
        if name == _ANY:
            problems.append(f"{path}: {_ANY!r} is reserved (it means any group)")
        if not isinstance(group, Mapping):
            problems.append(f"{path}: must be a table")
            continue
        problems += _unknown_keys(path, group, _GROUP_KEYS)
        if "anchor" not in group:
            problems.append(f"{path}.anchor: missing")
        else:
            anchors = _as_list(group["anchor"])
            for j, anchor in enumerate(anchors):
                sub = (
                    f"{path}.anchor"
                    if len(anchors) == 1 and not isinstance(group["anchor"], list)
                    else f"{path}.anchor[{j}]"
                )
                problem = _smarts_problem(sub, anchor, need_dummy=True)
                if problem:
                    problems.append(problem)
        if "atoms" in group:
            problem = _smarts_problem(f"{path}.atoms", group["atoms"])
            if problem:
                problems.append(problem)
        for key in ("require", "forbid"):
            if key in group:
                if not isinstance(group[key], list):
                    problems.append(f"{path}.{key}: must be a list of SMARTS")
                    continue
                for j, smarts in enumerate(group[key]):
                    problem = _smarts_problem(f"{path}.{key}[{j}]", smarts)
                    if problem:
                        problems.append(problem)
        if "acyclic" in group and not isinstance(group["acyclic"], bool):
            problems.append(f"{path}.acyclic: must be true or false")
        for key in ("max_atoms", "max_carbons"):
            if key in group and (
                not isinstance(group[key], int) or isinstance(group[key], bool) or group[key] < 1
            ):
                problems.append(f"{path}.{key}: must be a positive integer")

    def check_allowed(path: str, value: Any) -> None:
        if not isinstance(value, list) or not value:
            problems.append(f"{path}: must be a non-empty list of group names")
            return
        for j, name in enumerate(value):
            if name != _ANY and name not in group_names:
                problems.append(f"{path}[{j}]: unknown group {name!r}")

    def check_clause(path: str, value: Any) -> None:
        if not _is_str(value):
            problems.append(f"{path}: must be a clause key")
        elif clause_keys and value not in clause_keys:
            problems.append(f"{path}: unknown clause {value!r}")

    def check_map(path: str, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: must be an atom-map number of the scaffold")
        elif map_numbers and value not in map_numbers:
            problems.append(f"{path}: scaffold has no atom mapped {value}")

    regions = rules.get("regions")
    if not isinstance(regions, list) or not regions:
        problems.append("rules.regions: must be a non-empty list of region tables")
        regions = []
    for i, region in enumerate(regions):
        path = f"rules.regions[{i}]"
        if not isinstance(region, Mapping):
            problems.append(f"{path}: must be a table")
            continue
        kind = region.get("kind")
        if kind not in _REGION_KINDS:
            problems.append(f"{path}.kind: must be one of {', '.join(_REGION_KINDS)}")
            continue
        problems += _unknown_keys(path, region, _REGION_KEYS[kind])
        for key in sorted(_REGION_REQUIRED[kind] - set(region)):
            problems.append(f"{path}.{key}: missing")
        if "at" in region:
            check_map(f"{path}.at", region["at"])
        if "on" in region:
            if not isinstance(region["on"], list) or not region["on"]:
                problems.append(f"{path}.on: must be a non-empty list of atom-map numbers")
            else:
                for j, number in enumerate(region["on"]):
                    check_map(f"{path}.on[{j}]", number)
        if "select" in region:
            problem = _smarts_problem(f"{path}.select", region["select"])
            if problem:
                problems.append(problem)
        for key in ("clause", "chain_clause", "ring_clause", "reference_ring_clause"):
            if key in region:
                check_clause(f"{path}.{key}", region[key])
        for key in ("allowed", "chain_allowed", "reference_ring_allowed"):
            if key in region:
                check_allowed(f"{path}.{key}", region[key])
        if kind == "group" and "reference" in region:
            problem = _smiles_problem(f"{path}.reference", region["reference"])
            if problem:
                problems.append(problem)
            elif "*" not in region["reference"]:
                problems.append(f"{path}.reference: must mark the attachment point with *")
        for key in ("reference", "reference_ring"):
            if key in region and kind in ("ring", "chain_ring"):
                problem = _smiles_problem(f"{path}.{key}", region[key])
                if problem:
                    problems.append(problem)
        if "chain_atom" in region:
            problem = _smarts_problem(f"{path}.chain_atom", region["chain_atom"])
            if problem:
                problems.append(problem)
        if "chain_length" in region and (
            not isinstance(region["chain_length"], int)
            or isinstance(region["chain_length"], bool)
            or region["chain_length"] < 1
        ):
            problems.append(f"{path}.chain_length: must be a positive integer")
        for key in (
            "required",
            "require_monocycle",
            "require_aromatic",
            "ring_require_monocycle",
            "ring_require_aromatic",
            "substituted_reference_ring_is_replacement",
            "ring_through_atom",
        ):
            if key in region and not isinstance(region[key], bool):
                problems.append(f"{path}.{key}: must be true or false")
        for key in ("name", "absent_reason", "ambiguity_note"):
            if key in region and not _is_str(region[key]):
                problems.append(f"{path}.{key}: must be a non-empty string")

    exclusions = rules.get("exclusions", [])
    if not isinstance(exclusions, list):
        problems.append("rules.exclusions: must be a list of {name, smiles, reason}")
        exclusions = []
    for i, exclusion in enumerate(exclusions):
        path = f"rules.exclusions[{i}]"
        if not isinstance(exclusion, Mapping):
            problems.append(f"{path}: must be a table")
            continue
        problems += _unknown_keys(path, exclusion, _EXCLUSION_KEYS)
        for key in ("name", "reason"):
            if not _is_str(exclusion.get(key)):
                problems.append(f"{path}.{key}: must be a non-empty string")
        problem = _smiles_problem(f"{path}.smiles", exclusion.get("smiles"))
        if problem:
            problems.append(problem)

    for key in ("notes", "near_miss_note"):
        if key in rules and not isinstance(rules[key], str):
            problems.append(f"rules.{key}: must be a string")
    if "max_molecular_weight" in rules and (
        not isinstance(rules["max_molecular_weight"], int | float)
        or isinstance(rules["max_molecular_weight"], bool)
        or rules["max_molecular_weight"] <= 0
    ):
        problems.append("rules.max_molecular_weight: must be a positive number")

    if not problems:
        compiled = CompiledClass._build("(validation)", rules)
        result = compiled.match(_parent_of(rules["parent"]))
        if not result.is_parent:
            reason = result.near_miss_reason or (
                "matches with clauses " + ", ".join(sorted(result.clause_keys))
                if result.clauses
                else "does not match the scaffold"
            )
            problems.append(f"rules.parent: is not matched as the unmodified parent ({reason})")
    return problems


def _parent_of(smiles: str) -> Chem.Mol:
    return parent(parse_smiles(smiles))


def _connectivity(mol: Chem.Mol) -> str:
    """First block of the InChIKey (salt-, stereo- and isotope-insensitive identity)."""
    key: str = Chem.MolToInchiKey(mol)  # type: ignore[no-untyped-call]
    return key[:14]


# --------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    anchors: tuple[Chem.Mol, ...]
    atoms: Chem.Mol | None
    acyclic: bool
    max_atoms: int | None
    max_carbons: int | None
    require: tuple[Chem.Mol, ...]
    forbid: tuple[Chem.Mol, ...]


@dataclass(frozen=True, slots=True)
class _Region:
    name: str
    kind: str
    spec: Mapping[str, Any]
    at: int | None
    on: tuple[int, ...]
    select: Chem.Mol | None
    reference: str | None  # canonical SMILES of the reference group / ring


@dataclass(slots=True)
class _Outcome:
    """Accumulates the verdict for one scaffold mapping."""

    clauses: dict[str, set[int]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def hit(self, clause: str, atoms: Iterable[int]) -> None:
        self.clauses.setdefault(clause, set()).update(atoms)

    def score(self) -> tuple[int, int]:
        """Fewer violations first, then the simplest explanation (fewest clauses)."""
        return (len(self.violations), len(self.clauses))


@dataclass(slots=True)
class _Piece:
    """What matching found out about one substituent, kept for the next molecule carrying it.

    ``smiles``: canonical SMILES of the piece cut at its bond to the core (``*`` the cut).
    ``groups``: for each ``allowed`` list asked about, the first of its groups the piece is.
    """

    smiles: str
    groups: dict[tuple[str, ...], str | None] = field(default_factory=dict)


def _canonical_fragment(mol: Chem.Mol) -> str:
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 0:
            atom.SetIsotope(0)
    return Chem.MolToSmiles(mol, isomericSmiles=False)


def _canonical_smiles(smiles: str) -> str:
    mol = Chem.MolFromSmiles(smiles)
    return _canonical_fragment(mol)


class CompiledClass:
    """A class definition compiled for matching; build it with :func:`compile_class`."""

    key: str
    scaffold_smarts: str  # two definitions with one scaffold find its mappings alike
    _scaffold: Chem.Mol
    _map_index: dict[int, int]
    _descriptions: dict[str, str]
    _groups: dict[str, _Group]
    _regions: list[_Region]
    _chain_atom: dict[int, Chem.Mol]
    _exclusions: list[tuple[str, str]]
    _max_mw: float | None
    _near_miss_note: str | None
    _seen: dict[bytes, _Piece]

    def __init__(self) -> None:  # pragma: no cover - use compile_class
        raise TypeError("use compile_class()")

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the definition without the pieces remembered (a Dask broadcast stays small)."""
        return {k: v for k, v in self.__dict__.items() if k != "_seen"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._seen = {}

    @classmethod
    def _build(cls, key: str, rules: Mapping[str, Any]) -> CompiledClass:
        self = object.__new__(cls)
        self.key = key
        self.scaffold_smarts = str(rules["scaffold"])
        self._scaffold = Chem.MolFromSmarts(rules["scaffold"])
        self._map_index = {
            a.GetAtomMapNum(): a.GetIdx() for a in self._scaffold.GetAtoms() if a.GetAtomMapNum()
        }
        self._descriptions = {c["key"]: c["description"] for c in rules["clauses"]}
        self._groups = {}
        for name, spec in rules.get("groups", {}).items():
            self._groups[name] = _Group(
                name=name,
                anchors=tuple(Chem.MolFromSmarts(s) for s in _as_list(spec["anchor"])),
                atoms=Chem.MolFromSmarts(spec["atoms"]) if "atoms" in spec else None,
                acyclic=bool(spec.get("acyclic", False)),
                max_atoms=spec.get("max_atoms"),
                max_carbons=spec.get("max_carbons"),
                require=tuple(Chem.MolFromSmarts(s) for s in spec.get("require", [])),
                forbid=tuple(Chem.MolFromSmarts(s) for s in spec.get("forbid", [])),
            )
        self._regions = []
        for spec in rules["regions"]:
            ref = spec.get("reference", spec.get("reference_ring"))
            self._regions.append(
                _Region(
                    name=spec["name"],
                    kind=spec["kind"],
                    spec=spec,
                    at=spec.get("at"),
                    on=tuple(spec.get("on", ())),
                    select=Chem.MolFromSmarts(spec["select"]) if "select" in spec else None,
                    reference=_canonical_smiles(ref) if ref else None,
                )
            )
        self._chain_atom = {
            i: Chem.MolFromSmarts(r.spec.get("chain_atom", "[CX4;!R]"))
            for i, r in enumerate(self._regions)
            if r.kind == "chain_ring"
        }
        self._exclusions = []
        for ex in rules.get("exclusions", []):
            self._exclusions.append((ex["name"], _connectivity(_parent_of(ex["smiles"]))))
        limit = rules.get("max_molecular_weight")
        self._max_mw = float(limit) if limit is not None else None
        self._near_miss_note = rules.get("near_miss_note") or None
        self._seen = {}
        return self

    # ------------------------------------------------------------------ public

    def match(self, mol: Chem.Mol) -> ClassMatch:
        """Match a standardized parent molecule; never raises for a valid RDKit molecule.

        Cost for a molecule without the scaffold: one substructure test (microseconds).
        """
        work: Chem.Mol = mol
        back: Sequence[int] = range(mol.GetNumAtoms())
        if mol.GetNumAtoms() != mol.GetNumHeavyAtoms():  # hydrogen (or dummy) atoms
            if not mol.HasSubstructMatch(self._scaffold):
                return ClassMatch(key=self.key, member=False)
            work, back = _without_explicit_hydrogens(mol)
        # without hydrogen atoms `work` is `mol`: its mappings are the scaffold test itself
        mappings = work.GetSubstructMatches(
            self._scaffold, uniquify=False, maxMatches=_MAX_SCAFFOLD_MATCHES
        )
        if not mappings:
            return ClassMatch(key=self.key, member=False)
        best: tuple[_Outcome, tuple[int, ...]] | None = None
        for mapping in mappings:
            outcome = self._evaluate(work, mapping)
            core = tuple(sorted(back[mapping[i]] for i in self._map_index.values()))
            if best is None or outcome.score() < best[0].score():
                best = (outcome, core)
            if not outcome.violations:
                break  # a clean decomposition; symmetric mappings give the same verdict
        assert best is not None  # there was a mapping
        outcome, core = best
        if self._max_mw is not None:
            weight = float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]
            if weight > self._max_mw:
                outcome.violations.append(
                    f"molecular mass {weight:.1f} exceeds the definition's maximum of "
                    f"{self._max_mw:g}"
                )
        hits = tuple(
            ClauseHit(
                key=k, description=self._descriptions[k], atoms=tuple(sorted(back[i] for i in v))
            )
            for k, v in sorted(outcome.clauses.items())
        )
        notes = tuple(dict.fromkeys(outcome.notes))
        if outcome.violations:
            reason = "; ".join(dict.fromkeys(outcome.violations))
            if self._near_miss_note:
                reason = f"{reason}. Note: {self._near_miss_note}"
            return ClassMatch(
                key=self.key,
                member=False,
                clauses=hits,
                core_atoms=core,
                near_miss=True,
                near_miss_reason=reason,
                notes=notes,
            )
        if not hits:
            return ClassMatch(key=self.key, member=False, core_atoms=core, is_parent=True)
        if self._exclusions:
            try:
                connectivity = _connectivity(mol)
            except Exception:  # InChI failure: nothing can be excluded by identity
                connectivity = ""
            for name, key in self._exclusions:
                if key == connectivity:
                    return ClassMatch(
                        key=self.key,
                        member=False,
                        clauses=hits,
                        core_atoms=core,
                        notes=notes,
                        excluded_by=name,
                    )
        return ClassMatch(key=self.key, member=True, clauses=hits, core_atoms=core, notes=notes)

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, mol: Chem.Mol, mapping: tuple[int, ...]) -> _Outcome:
        out = _Outcome()
        core_by_map = {num: mapping[qi] for num, qi in self._map_index.items()}
        core = set(core_by_map.values())
        # Pieces: connected parts of the molecule outside the core, with their attachments.
        pieces = _pieces(mol, core)
        attachments: dict[int, list[tuple[int, frozenset[int]]]] = {}
        claimed: set[frozenset[int]] = set()
        ring_atoms = self._ring_through_atoms(core_by_map)
        for atoms, bonds in pieces:
            owners = {c for c, _ in bonds}
            if len(bonds) > 1 and len(owners) == 1 and next(iter(owners)) in ring_atoms:
                # "inclusion of the nitrogen atom ... in a cyclic structure": a ring built
                # on one core atom only, permitted by that atom's substituents region.
                out.hit(ring_atoms[next(iter(owners))], atoms)
                claimed.add(atoms)
                continue
            if len(bonds) > 1:
                where = sorted({mol.GetAtomWithIdx(c).GetSymbol() + str(c) for c, _ in bonds})
                out.violations.append(
                    f"a ring is closed onto the core (atoms {sorted(atoms)} join core atoms "
                    f"{', '.join(where)}); no clause permits it"
                )
                claimed.add(atoms)
                continue
            core_atom, first = bonds[0]
            attachments.setdefault(core_atom, []).append((first, atoms))

        for ri, region in enumerate(self._regions):
            if region.kind == "substituents":
                for num in region.on:
                    for first, atoms in attachments.get(core_by_map[num], []):
                        if atoms in claimed:
                            continue
                        claimed.add(atoms)
                        self._substituent(
                            mol,
                            core_by_map[num],
                            first,
                            atoms,
                            region.spec["allowed"],
                            region.spec["clause"],
                            region.name,
                            out,
                        )
                continue
            assert region.at is not None
            candidates = [
                (f, a)
                for f, a in attachments.get(core_by_map[region.at], [])
                if a not in claimed and self._selected(mol, region, f)
            ]
            if region.kind == "ring":  # an aromatic ring is the natural aniline candidate
                candidates.sort(key=lambda c: not mol.GetAtomWithIdx(c[0]).GetIsAromatic())
            if not candidates:
                if region.spec.get("required", True):
                    out.violations.append(
                        region.spec.get("absent_reason", f"{region.name}: absent")
                    )
                continue
            # Several candidates can only arise from an over-broad select; take the first
            # (atom order) and let any other piece fall through to "unclaimed".
            first, atoms = candidates[0]
            claimed.add(atoms)
            anchor = core_by_map[region.at]
            if region.kind == "group":
                self._group_region(mol, anchor, first, atoms, region, out)
            elif region.kind == "ring":
                self._ring_region(mol, first, atoms, region, out)
            else:
                self._chain_ring_region(mol, anchor, first, atoms, region, ri, out)

        for atoms, bonds in pieces:
            if atoms not in claimed:
                c, first = bonds[0]
                out.violations.append(
                    f"substituent {self._piece(mol, c, first, atoms)[0].smiles} on core atom "
                    f"{mol.GetAtomWithIdx(c).GetSymbol()}{c} is not covered by any clause"
                )
        return out

    def _ring_through_atoms(self, core_by_map: Mapping[int, int]) -> dict[int, str]:
        """Core atom -> clause, for atoms whose region permits a ring built on them alone."""
        out: dict[int, str] = {}
        for region in self._regions:
            if region.kind == "substituents" and region.spec.get("ring_through_atom", False):
                for num in region.on:
                    out.setdefault(core_by_map[num], region.spec["clause"])
        return out

    def _selected(self, mol: Chem.Mol, region: _Region, first: int) -> bool:
        if region.select is None:
            if region.kind == "ring":
                return mol.GetAtomWithIdx(first).IsInRing()
            return True
        return any(m[0] == first for m in mol.GetSubstructMatches(region.select))

    def _group_region(
        self,
        mol: Chem.Mol,
        anchor: int,
        first: int,
        atoms: frozenset[int],
        region: _Region,
        out: _Outcome,
    ) -> None:
        piece, frag = self._piece(mol, anchor, first, atoms)
        if piece.smiles == region.reference:
            return
        allowed = region.spec["allowed"]
        if _ANY in allowed or self._group(piece, frag, mol, anchor, first, allowed):
            out.hit(region.spec["clause"], atoms)
        else:
            out.violations.append(
                f"{region.name}: {piece.smiles} is not one of {', '.join(allowed)}"
            )

    def _ring_region(
        self, mol: Chem.Mol, first: int, atoms: frozenset[int], region: _Region, out: _Outcome
    ) -> None:
        system, n_rings = _ring_system(mol, first)
        spec = region.spec
        problems = _ring_problems(
            mol,
            system,
            n_rings,
            spec.get("require_monocycle", True),
            spec.get("require_aromatic", False),
            region.name,
        )
        if problems:
            out.violations.extend(problems)
            return
        ring_smiles = Chem.MolFragmentToSmiles(mol, atomsToUse=sorted(system), isomericSmiles=False)
        substituted = bool(atoms - system)
        if ring_smiles != region.reference or substituted:
            # "replacement ... with any aromatic monocycle whether or not further
            # substituted": a substituted reference ring is a replacement too.
            out.hit(spec["clause"], atoms)

    def _chain_ring_region(
        self,
        mol: Chem.Mol,
        anchor: int,
        first: int,
        atoms: frozenset[int],
        region: _Region,
        ri: int,
        out: _Outcome,
    ) -> None:
        spec = region.spec
        length = spec["chain_length"]
        chain_query = self._chain_atom[ri]
        chain_ok = {m[0] for m in mol.GetSubstructMatches(chain_query)}
        paths = _chains(mol, first, length, atoms, chain_ok)
        if not paths:
            out.violations.append(_chain_reason(mol, anchor, first, atoms, length, region.name))
            return
        best: _Outcome | None = None
        for chain, ring_atom in paths:
            trial = _Outcome()
            self._evaluate_chain(mol, chain, ring_atom, atoms, region, trial)
            if best is None or trial.score() < best.score():
                best = trial
        assert best is not None
        for key, hit_atoms in best.clauses.items():
            out.hit(key, hit_atoms)
        out.violations.extend(best.violations)
        out.notes.extend(best.notes)

    def _evaluate_chain(
        self,
        mol: Chem.Mol,
        chain: tuple[int, ...],
        ring_atom: int,
        atoms: frozenset[int],
        region: _Region,
        out: _Outcome,
    ) -> None:
        spec = region.spec
        system, n_rings = _ring_system(mol, ring_atom)
        chain_set = set(chain)
        rest = set(atoms) - chain_set - system
        # Sub-pieces hanging off the chain or the ring system.
        sub = _pieces(mol, chain_set | system, within=rest)
        ring_subs: list[tuple[int, int, frozenset[int]]] = []
        for sub_atoms, bonds in sub:
            owners = {b[0] for b in bonds}
            if len(bonds) > 1:
                out.violations.append(
                    f"{region.name}: atoms {sorted(sub_atoms)} close a ring between the "
                    "chain and the ring; no clause permits it"
                )
                continue
            c, f = bonds[0]
            if owners <= chain_set:
                self._substituent(
                    mol,
                    c,
                    f,
                    sub_atoms,
                    spec["chain_allowed"],
                    spec["chain_clause"],
                    f"{region.name} chain",
                    out,
                )
            else:
                ring_subs.append((c, f, sub_atoms))
        problems = _ring_problems(
            mol,
            system,
            n_rings,
            spec.get("ring_require_monocycle", True),
            spec.get("ring_require_aromatic", False),
            f"{region.name} ring",
        )
        if problems:
            out.violations.extend(problems)
            return
        ring_smiles = Chem.MolFragmentToSmiles(mol, atomsToUse=sorted(system), isomericSmiles=False)
        if ring_smiles != region.reference:
            # Replacement by another monocycle, "whether or not further substituted".
            out.hit(spec["ring_clause"], system | {a for _, _, s in ring_subs for a in s})
            return
        if not ring_subs:
            return
        trial = _Outcome()
        for c, f, sub_atoms in ring_subs:
            self._substituent(
                mol,
                c,
                f,
                sub_atoms,
                spec["reference_ring_allowed"],
                spec["reference_ring_clause"],
                f"{region.name} ring",
                trial,
            )
        if not trial.violations:
            for key, hit_atoms in trial.clauses.items():
                out.hit(key, hit_atoms)
        elif spec.get("substituted_reference_ring_is_replacement", False):
            out.hit(spec["ring_clause"], system | {a for _, _, s in ring_subs for a in s})
            out.notes.append(
                spec.get(
                    "ambiguity_note",
                    f"{region.name}: a substituted reference ring was treated as a replacement",
                )
            )
        else:
            out.violations.extend(trial.violations)

    def _substituent(
        self,
        mol: Chem.Mol,
        anchor: int,
        first: int,
        atoms: frozenset[int],
        allowed: Sequence[str],
        clause: str,
        where: str,
        out: _Outcome,
    ) -> None:
        if _ANY in allowed:
            out.hit(clause, atoms)
            return
        piece, frag = self._piece(mol, anchor, first, atoms)
        if self._group(piece, frag, mol, anchor, first, allowed):
            out.hit(clause, atoms)
        else:
            out.violations.append(
                f"{where}: substituent {piece.smiles} is not one of {', '.join(allowed)}"
            )

    def _piece(
        self, mol: Chem.Mol, anchor: int, first: int, atoms: frozenset[int]
    ) -> tuple[_Piece, Chem.Mol | None]:
        """The piece beyond the bond anchor-first (`atoms`), remembered or cut now.

        The cut fragment is returned too when it had to be made (None when remembered).
        """
        key = _piece_key(mol, anchor, atoms)
        piece = self._seen.get(key)
        if piece is not None:
            return piece, None
        frag = _cut(mol, anchor, first)
        piece = _Piece(_canonical_fragment(Chem.Mol(frag)))
        if frag.GetNumAtoms() == len(atoms) + 1:  # the cut holds `atoms` and the dummy only
            if len(self._seen) >= _PIECES_REMEMBERED:
                self._seen.clear()
            self._seen[key] = piece
        return piece, frag

    def _group(
        self,
        piece: _Piece,
        frag: Chem.Mol | None,
        mol: Chem.Mol,
        anchor: int,
        first: int,
        allowed: Sequence[str],
    ) -> str | None:
        """The first group of `allowed` the piece is (None: none of them), asked once per piece."""
        names = tuple(allowed)
        if names not in piece.groups:
            cut = frag if frag is not None else _cut(mol, anchor, first)
            piece.groups[names] = self._classify(cut, names)
        return piece.groups[names]

    def _classify(self, frag: Chem.Mol, allowed: Sequence[str]) -> str | None:
        dummy = next(
            a.GetIdx()
            for a in frag.GetAtoms()
            if a.GetAtomicNum() == 0 and a.GetDegree() == 1 and a.HasProp("_aw_cut")
        )
        heavy = [a.GetIdx() for a in frag.GetAtoms() if a.GetIdx() != dummy]
        for name in allowed:
            group = self._groups[name]
            if group.max_atoms is not None and len(heavy) > group.max_atoms:
                continue
            if group.max_carbons is not None and (
                sum(1 for i in heavy if frag.GetAtomWithIdx(i).GetAtomicNum() == 6)
                > group.max_carbons
            ):
                continue
            if group.acyclic and any(frag.GetAtomWithIdx(i).IsInRing() for i in heavy):
                continue
            if not any(m[0] == dummy for q in group.anchors for m in frag.GetSubstructMatches(q)):
                continue
            if group.atoms is not None:
                ok = {m[0] for m in frag.GetSubstructMatches(group.atoms)}
                if not all(i in ok for i in heavy):
                    continue
            if not all(frag.HasSubstructMatch(q) for q in group.require):
                continue
            if any(frag.HasSubstructMatch(q) for q in group.forbid):
                continue
            return name
        return None


# --------------------------------------------------------------------------- graph helpers


def _pieces(
    mol: Chem.Mol, core: set[int], within: set[int] | None = None
) -> list[tuple[frozenset[int], list[tuple[int, int]]]]:
    """Connected components outside ``core`` with their bonds to core: (atoms, [(core, first)])."""
    allowed = within if within is not None else (set(range(mol.GetNumAtoms())) - core)
    seen: set[int] = set()
    result = []
    for start in sorted(allowed):
        if start in seen:
            continue
        comp: set[int] = set()
        stack = [start]
        bonds: list[tuple[int, int]] = []
        while stack:
            idx = stack.pop()
            if idx in comp:
                continue
            comp.add(idx)
            for nb in mol.GetAtomWithIdx(idx).GetNeighbors():
                j = nb.GetIdx()
                if j in core:
                    bonds.append((j, idx))
                elif j in allowed and j not in comp:
                    stack.append(j)
        seen |= comp
        result.append((frozenset(comp), sorted(set(bonds))))
    return result


def _ring_system(mol: Chem.Mol, atom: int) -> tuple[set[int], int]:
    """Atoms of the ring system (rings sharing atoms) containing ``atom`` and its ring count."""
    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    system: set[int] = set()
    members: list[int] = []
    frontier = [i for i, r in enumerate(rings) if atom in r]
    while frontier:
        i = frontier.pop()
        if i in members:
            continue
        members.append(i)
        system |= rings[i]
        frontier += [j for j, r in enumerate(rings) if j not in members and r & system]
    return system, len(members)


def _without_explicit_hydrogens(mol: Chem.Mol) -> tuple[Chem.Mol, list[int]]:
    """Drop hydrogen atoms kept as graph nodes (e.g. [2H]); return the copy and index map.

    Isotopic hydrogens are the same substance for legal lists ("isomers"), and group
    definitions are written for heavy atoms. ``back[i]`` is the caller's index of atom i.
    """
    kept = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() != 1]
    if len(kept) == mol.GetNumAtoms():
        return mol, kept
    params = Chem.RemoveHsParameters()
    for option in (
        "removeIsotopes",
        "removeDefiningBondStereo",
        "removeWithWedgedBond",
        "removeDegreeZero",
        "removeHigherDegrees",
        "removeNonimplicit",
    ):
        setattr(params, option, True)
    work = Chem.RemoveHs(mol, params, sanitize=False)
    work.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(work)
    if work.GetNumAtoms() != len(kept):  # pragma: no cover - unusual hydrogen kinds
        return mol, list(range(mol.GetNumAtoms()))
    return work, kept


def _ring_problems(
    mol: Chem.Mol, system: set[int], n_rings: int, monocycle: bool, aromatic: bool, where: str
) -> list[str]:
    problems = []
    if monocycle and n_rings != 1:
        problems.append(
            f"{where}: a ring system of {n_rings} rings replaces the ring; "
            "the clause requires a monocycle"
        )
        return problems
    if aromatic and not all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in system):
        problems.append(
            f"{where}: the replacing ring is not aromatic; the clause requires "
            "an aromatic monocycle"
        )
    return problems


def _chains(
    mol: Chem.Mol, first: int, length: int, atoms: frozenset[int], chain_ok: set[int]
) -> list[tuple[tuple[int, ...], int]]:
    """Paths of ``length`` chain atoms starting at ``first`` and ending next to a ring atom."""
    results: list[tuple[tuple[int, ...], int]] = []

    def walk(path: list[int]) -> None:
        last = path[-1]
        if len(path) == length:
            for nb in mol.GetAtomWithIdx(last).GetNeighbors():
                j = nb.GetIdx()
                if j in atoms and j not in path and nb.IsInRing():
                    results.append((tuple(path), j))
            return
        for nb in mol.GetAtomWithIdx(last).GetNeighbors():
            j = nb.GetIdx()
            if j in atoms and j not in path and j in chain_ok:
                walk([*path, j])

    if first in chain_ok:
        walk([first])
    return results


def _chain_reason(
    mol: Chem.Mol, anchor: int, first: int, atoms: frozenset[int], length: int, where: str
) -> str:
    ring_atoms = {i for i in atoms if mol.GetAtomWithIdx(i).IsInRing()}
    if not ring_atoms:
        return (
            f"{where}: no ring at the end of the N-substituent "
            f"{_piece_smiles(mol, anchor, first)} (the parent has a phenyl ring there)"
        )
    # Breadth-first distance from the attachment atom to the nearest ring atom.
    dist = {first: 0}
    queue = [first]
    while queue:
        idx = queue.pop(0)
        if idx in ring_atoms:
            linker = dist[idx]
            if linker == length:
                return (
                    f"{where}: the {length}-atom linker to the ring is not a saturated "
                    "acyclic carbon chain"
                )
            unit = "atom" if linker == 1 else "atoms"
            return (
                f"{where}: the ring is joined to the core through {linker} linker "
                f"{unit}; the parent has {length}"
            )
        for nb in mol.GetAtomWithIdx(idx).GetNeighbors():
            j = nb.GetIdx()
            if j in atoms and j not in dist:
                dist[j] = dist[idx] + 1
                queue.append(j)
    return f"{where}: not recognised"  # pragma: no cover - ring atoms are reachable


def _cut(mol: Chem.Mol, anchor: int, first: int) -> Chem.Mol:
    """The piece beyond bond anchor-first as its own molecule, the cut marked by a dummy atom."""
    bond = mol.GetBondBetweenAtoms(anchor, first)
    cut = Chem.FragmentOnBonds(mol, [bond.GetIdx()], addDummies=True)
    mapping: list[int] = []
    frags = Chem.GetMolFrags(cut, asMols=False, fragsMolAtomMapping=mapping, sanitizeFrags=False)
    piece_atoms = next(f for f in frags if first in f)
    keep = set(piece_atoms)
    rw = Chem.RWMol(cut)
    dummy = next(
        i
        for i in piece_atoms
        if cut.GetAtomWithIdx(i).GetAtomicNum() == 0
        and cut.GetAtomWithIdx(i).GetIdx() >= mol.GetNumAtoms()
    )
    rw.GetAtomWithIdx(dummy).SetProp("_aw_cut", "1")
    for idx in sorted((i for i in range(cut.GetNumAtoms()) if i not in keep), reverse=True):
        rw.RemoveAtom(idx)
    frag = rw.GetMol()
    frag.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(frag)
    return frag


def _piece_key(mol: Chem.Mol, anchor: int, atoms: frozenset[int]) -> bytes:
    """The piece `atoms` attached at `anchor`, written out as a key for remembering it.

    The number of atoms; the atoms in index order, each as (element, charge, hydrogens,
    isotope, aromatic, radicals); then every bond as (atom, atom or -1 for the anchor, type,
    aromatic): all that the cut fragment's group SMARTS and canonical SMILES depend on, so
    one key is one substituent. Not canonical: the same group written in another atom order
    is a second key (a miss, never a wrong answer). Packed as 32-bit integers, a few hundred
    bytes; cheaper to make than a fragment SMILES, most of all for small pieces.
    """
    order = sorted(atoms)
    pos = {a: i for i, a in enumerate(order)}
    flat = [len(order)]
    for a in order:
        atom = mol.GetAtomWithIdx(a)
        flat += (
            atom.GetAtomicNum(),
            atom.GetFormalCharge(),
            atom.GetTotalNumHs(),
            atom.GetIsotope(),
            atom.GetIsAromatic(),
            atom.GetNumRadicalElectrons(),
        )
    for i, a in enumerate(order):
        for bond in mol.GetAtomWithIdx(a).GetBonds():
            other = bond.GetOtherAtomIdx(a)
            j = pos.get(other, -1 if other == anchor else -2)
            if j < 0 or j > i:
                flat += (i, j, int(bond.GetBondType()), bond.GetIsAromatic())
    return array("i", flat).tobytes()


def _piece_smiles(mol: Chem.Mol, anchor: int, first: int) -> str:
    return _canonical_fragment(Chem.Mol(_cut(mol, anchor, first)))


# --------------------------------------------------------------------------- entry point


def compile_class(key: str, rules: Mapping[str, Any]) -> CompiledClass:
    """Validate and compile a class's ``[rules]`` once for matching many molecules.

    Raises ClassRulesError listing every problem when the rules are invalid.
    """
    problems = validate_rules(rules)
    if problems:
        raise ClassRulesError(key, problems)
    return CompiledClass._build(key, rules)


def match_smiles(compiled: CompiledClass, smiles: str) -> ClassMatch:
    """Parse, standardize and match a SMILES; raise StructureError when it cannot be read."""
    return compiled.match(_parent_of(smiles))
