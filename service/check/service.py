"""The check: is a compound listed, covered by a class, a lookalike, or none of these?

Per jurisdiction J and as-of date d, in this order:

1. `controlled` — the standardized query is a registry substance (same full InChIKey, or
   the same connectivity block: stereoisomers, isotopologues, salts) under an individual
   act in force in J on d. The result names the act: schedule, citation, effective date.
   A substance whose legal entry names one stereoisomer or the racemate (`stereo` =
   `exact`: levomethorphan, racemethorphan, dextropropoxyphene) matches by full InChIKey
   only, so an excluded stereoisomer (dextromethorphan) is not that substance. Where such an
   entry has acts in J (LAAM, which the US lists apart from the alphacetylmethadol entry that
   excepts it), only its own acts count there; elsewhere it is an isomer of its siblings.
2. `controlled_by_class` — a class definition of J in force on d covers the query
   structurally; the result names the definition, the clauses matched and the atoms.
   Structural membership always needs legal review, and says so.
3. `lookalike` — neither, but the query is at least `threshold`-similar (Tanimoto,
   Morgan) to a substance controlled in J on d, or it is controlled in another
   jurisdiction on d, or it is a near miss of a class definition of J in force on d, or
   it is at least `elsewhere_threshold`-similar to another substance controlled in some
   other jurisdiction on d, or it is a member or near miss of a class definition of
   another jurisdiction in force on d, or it contains whole a substance controlled in some
   jurisdiction on d (that substance with atoms added: see CONTAINS_*), or, failing that,
   it carries whole a scaffold of one (its ring systems and linkers, other side chains: see
   SCAFFOLD_*).
   `reasons` lists which (`similarity`, `controlled_elsewhere`, `class_near_miss`,
   `similar_elsewhere`, `class_elsewhere`, `contains_controlled`, `shares_scaffold`), and
   `why` says, per reason, what it points to, where and since when.
4. `not_flagged` — none of these.

A `lookalike` or `not_flagged` verdict for a structure with the core of a generic law of J
that the registry knows is in force but does not encode (`schedules/unencoded/`) carries
that law in `caveats`: the status may understate control there. Such a law never sets a status.
A `lookalike` or `not_flagged` verdict for a structure that the law of J names as excluded
(`schedules/exclusions/`; the same full InChIKey, in force on d) carries that exclusion in
`exclusions`: the law decided it is not controlled by that entry. It never sets a status either.

Every verdict carries the nearest substances controlled in J on d, with similarities.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode

from rdkit import Chem

from service.check.index import WatchIndex, loose_name
from service.check.similarity import Hit
from service.check.verdict import (
    Caveat,
    CheckResult,
    ClassMatchOut,
    ClauseOut,
    Elsewhere,
    Evidence,
    ExclusionOut,
    InterpretedName,
    ListedLater,
    MatchedSubstance,
    NearMiss,
    Neighbor,
    Place,
    Reason,
    RegistryRef,
    Status,
    Verdict,
)
from service.chem.classes import ClassMatch
from service.chem.drugnames import approved_drug_smiles, brand_generic, brand_names, plant_material
from service.chem.errors import StructureError
from service.chem.inputs import CAS, INCHIKEY, Parsed, detect, read_structure
from service.chem.names import NameUnreadable, looks_systematic
from service.chem.scaffolds import Core
from service.chem.standardize import (
    has_open_stereocentre,
    identity,
    mirror_inchikey,
    parse_smiles,
)
from service.config import Settings
from service.errors import require_jurisdictions
from service.registry.snapshot import (
    Act,
    ExclusionFact,
    SubstanceFact,
    UnencodedFact,
    first_control,
)

STATUSES = tuple(Status)
# `contains_controlled`: the query contains whole a substance controlled somewhere on the day,
# one of the CONTAINS_CANDIDATES most similar to it (at least CONTAINS_MIN_SIMILARITY: a shared
# pharmacophore, not a chance embedding of a chain in a ring system), of at least
# CONTAINS_MIN_ATOMS heavy atoms and CONTAINS_MIN_SHARE of the query's. Chosen on the backtest
# (docs/backtest.md, "Containment"): MT-45 contains lefetamine, desmetramadol tapentadol.
CONTAINS_MIN_ATOMS = 12
CONTAINS_MIN_SHARE = 0.6
CONTAINS_MIN_SIMILARITY = 0.25
CONTAINS_CANDIDATES = 10
# `shares_scaffold`: the query contains no controlled substance whole (`contains_controlled`)
# but it carries whole a scaffold of a substance controlled somewhere on the day: two or more
# of its ring systems with the linkers between them (service/chem/scaffolds.py). The substance
# is one of the CONTAINS_CANDIDATES most similar to the query (at least
# SCAFFOLD_MIN_SIMILARITY), the scaffold at least SCAFFOLD_MIN_ATOMS heavy atoms and
# SCAFFOLD_MIN_SHARE of the query's: a new series on a listed scaffold, other side chains.
# Chosen on the backtest (docs/backtest.md; `bench/containment_scan.py --signal
# shares_scaffold`): brorphine carries bezitramide's piperidinyl-benzimidazolone (16 of its 25
# heavy atoms) at similarity 0.24.
SCAFFOLD_MIN_ATOMS = 16
SCAFFOLD_MIN_SHARE = 0.6
SCAFFOLD_MIN_SIMILARITY = 0.2
DEFAULT_TOP_K = 5
DEFAULT_THRESHOLD: float = Settings.model_fields["similarity_threshold"].default
DEFAULT_ELSEWHERE_THRESHOLD: float = Settings.model_fields["elsewhere_threshold"].default
"""Tanimoto (Morgan) at which resemblance to a substance controlled in another jurisdiction
warns (`similar_elsewhere`); chosen on the backtest curve (docs/backtest.md)."""
DEPICTION_PATH = "/check/depiction.svg"  # the check router's drawing of a query


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What to check against: jurisdictions (None = all), as-of date, thresholds, top-k.

    `threshold` is for substances controlled in the jurisdiction itself, `elsewhere_threshold`
    for substances controlled only in another one.
    """

    as_of: date
    jurisdictions: tuple[str, ...] | None = None
    threshold: float = DEFAULT_THRESHOLD
    top_k: int = DEFAULT_TOP_K
    elsewhere_threshold: float = DEFAULT_ELSEWHERE_THRESHOLD


def resolve(
    index: WatchIndex, text: str, input_type: str | None = None
) -> tuple[Parsed, SubstanceFact | None]:
    """Read the query: a registry name/synonym/CAS/InChIKey, a structure, or a systematic name.

    A systematic name is read by OPSIN when `input_type` is "name", or, unasked, when the
    text is no registry name and no structure but looks like a systematic name. Raise
    StructureError (NameUnreadable for a name) with the reason.
    """
    if input_type in (None, "name", "cas", "inchikey"):
        if input_type in (None, "name"):
            found = lookup_drug_name(index, text)
        else:
            found = index.lookup_name(text)
        if found is not None:
            return _registry_parsed(found, input_type or _name_kind(text)), found
        if input_type in ("cas", "inchikey"):
            raise StructureError(f"no substance named {text.strip()[:100]!r} in the registry")
        if input_type == "name":
            if (branded := _brand(index, text)) is not None:
                return branded
            try:
                return _approved_drug(text) or _excluded_drug(index, text) or _read_name(text), None
            except NameUnreadable as why:
                if why.reason != "unknown_name":
                    raise
                raise NameUnreadable(why.reason, f"{why}{did_you_mean(index, text)}") from None
    try:
        parsed = read_structure(text, input_type)
    except StructureError as exc:
        if (
            input_type is None
            and detect(text) == "smiles"
            and "\x00" not in text
            and _looks_like_name(text)
        ):
            if (branded := _brand(index, text)) is not None:
                return branded
            drug = _approved_drug(text) or _excluded_drug(index, text)
            if drug is not None:
                return drug, None
            neither = (
                f"not a name, synonym or CAS number in the registry, and not a structure ({exc})"
                f"{did_you_mean(index, text)}"
            )
            if looks_systematic(text):
                try:
                    return read_structure(text, "name"), None
                except NameUnreadable as why:
                    if why.reason != "unknown_name":  # say what kept the name from being read
                        raise NameUnreadable(why.reason, f"{neither}; {why}") from None
            raise StructureError(neither) from None
        raise
    return parsed, None


# counter-ions and solvates named after a drug ("oxycodone hydrochloride", "methadone HCl"):
# the check standardizes to the parent, so the name without them is the same drug
_SALT_WORDS = (
    r"hydrochloride|dihydrochloride|hcl|hydrobromide|hbr|hydroiodide|sulfate|sulphate|"
    r"bisulfate|hydrogen sulfate|citrate|dihydrogen citrate|tartrate|bitartrate|"
    r"hydrogen tartrate|phosphate|acetate|maleate|fumarate|succinate|mesylate|mesilate|"
    r"besylate|besilate|tosylate|napsylate|napsilate|lactate|gluconate|nitrate|oxalate|"
    r"pamoate|salicylate|stearate|camsylate|base|free base|salt|anhydrous|"
    r"(?:mono|di|tri|tetra|penta|hexa|hemi|sesqui)?hydrate"
)
_SALT_WORD = re.compile(rf"[\s,]+(?:{_SALT_WORDS})\s*$", re.IGNORECASE)


def without_salt(text: str) -> list[str]:
    """The name without its trailing counter-ion and hydrate words, one word off at a time
    ("methyl acetate hydrochloride" gives "methyl acetate", then "methyl"); empty when the name
    ends in none, or nothing else would be left."""
    out: list[str] = []
    t = " ".join(text.split())
    while (shorter := _SALT_WORD.sub("", t).strip(" ,")) and shorter != t:
        out.append(shorter)
        t = shorter
    return out


def did_you_mean(index: WatchIndex, text: str) -> str:
    """Up to three registry or brand names close to a name nobody knows (a misspelling:
    "tramadoll", "heroine", "oxycontine"), as "; did you mean 'X'?", or "" when none is close.
    A plant material ("kratom", "opium") is no structure: the hint names its alkaloids instead."""
    t = " ".join(text.split()).casefold()
    if not t or len(t) > 100:
        return ""
    if (material := plant_material(t)) is not None:
        what, keys = material
        names = [index.by_name[k].name for k in keys if k in index.by_name]
        ask = f": ask about {' or '.join(repr(n) for n in names)}" if names else ""
        return f"; {t!r} is {what}, not one structure{ask}"
    brands = brand_names()
    close = difflib.get_close_matches(t, [*index.by_name, *brands], n=6, cutoff=0.85)
    spelt = (index.by_name[c].name if c in index.by_name else brands[c] for c in close)
    names = list(dict.fromkeys(spelt))[:3]
    return f"; did you mean {' or '.join(repr(n) for n in names)}?" if names else ""


def may_read_name(text: str, input_type: str | None = None) -> bool:
    """True when checking the query may run OPSIN (about a second): keep it off an event loop."""
    if input_type == "name":
        return True
    return input_type is None and _looks_like_name(text) and looks_systematic(text)


def is_one_name(index: WatchIndex, line: str) -> bool:
    """True when a line with spaces is one systematic name ("propanoic acid"), not a
    structure or name followed by an identifier ("CCO sample-1", "fentanyl s2")."""
    t = line.strip()
    first = t.split(None, 1)[0] if t else ""
    return (
        " " in t
        and index.lookup_name(first) is None
        and _looks_like_name(first)
        and not looks_systematic(first)
        and looks_systematic(t)
    )


def _approved_drug(text: str) -> Parsed | None:
    """An approved drug's name (ChEMBL) read as its structure, or None; a salt or hydrate
    named after it ("loperamide HCl") is read as the drug."""
    smiles = next(
        (s for name in (text, *without_salt(text)) if (s := approved_drug_smiles(name))), None
    )
    if smiles is None:
        return None
    p = read_structure(smiles, "smiles")
    return Parsed(p.mol, p.identity, "name", smiles, "chembl")


def _excluded_drug(index: WatchIndex, text: str) -> Parsed | None:
    """A substance the law names as excluded from a schedule ("dextrorphan"), by that name or
    the name without counter-ion and hydrate words, read as the structure the registry gives
    it (`schedules/exclusions/`), or None."""
    snap = index.snapshot
    smiles = next(
        (
            s
            for name in (text, *without_salt(text))
            if (s := snap.excluded_smiles(name, loose_name))
        ),
        None,
    )
    if smiles is None:
        return None
    p = read_structure(smiles, "smiles")
    return Parsed(p.mol, p.identity, "name", smiles, "law")


def _brand(index: WatchIndex, text: str) -> tuple[Parsed, SubstanceFact | None] | None:
    """A brand name ("OxyContin") read as the drug it names: a registry substance where the
    drug's name, counter-ion and hydrate words taken off, is one; else an approved drug."""
    found = brand_generic(text)
    if found is None:
        return None
    generic, _unii = found
    named = lookup_drug_name(index, generic)
    if named is not None:
        read = _registry_parsed(named, "name", read_as=named.smiles, read_by="brand")
        return replace(read, generic=generic), named
    drug = _approved_drug(generic)
    if drug is None:  # the table was built from another registry: not a name we can read now
        return None
    return replace(drug, read_by="brand", generic=generic), None


def brand_substance(index: WatchIndex, text: str) -> SubstanceFact | None:
    """The registry substance a brand name stands for ("OxyContin": oxycodone), or None."""
    found = brand_generic(text)
    return lookup_drug_name(index, found[0]) if found is not None else None


def lookup_drug_name(index: WatchIndex, text: str) -> SubstanceFact | None:
    """A registry substance by name, or by the name without its trailing counter-ion and
    hydrate words ("methadone HCl", "morphine sulphate pentahydrate": the salt's parent)."""
    for name in (text, *without_salt(text)):
        found = index.lookup_name(name)
        if found is not None:
            return found
    return None


def _registry_parsed(
    found: SubstanceFact, kind: str, read_as: str | None = None, read_by: str = "opsin"
) -> Parsed:
    mol = parse_smiles(found.smiles)
    return Parsed(mol, identity(mol, with_inchi=False), kind, read_as, read_by)


def _read_name(text: str) -> Parsed:
    """A name asked for as one (not in the registry): read by OPSIN, or NameUnreadable."""
    try:
        return read_structure(text, "name")
    except NameUnreadable as why:
        if why.reason == "unknown_name":
            raise NameUnreadable(
                why.reason, f"unknown name: not in the registry, and {why}"
            ) from None
        raise


def interpretation(parsed: Parsed, query: str) -> InterpretedName | None:
    """What a systematic name was read as (None for any other query)."""
    if parsed.read_as is None:
        return None
    return InterpretedName(
        name=query.strip(),
        by="brand"
        if parsed.read_by == "brand"
        else "chembl"
        if parsed.read_by == "chembl"
        else "law"
        if parsed.read_by == "law"
        else "opsin",
        generic=parsed.generic,
        smiles=parsed.read_as,
        depiction=f"{DEPICTION_PATH}?{urlencode({'structure': parsed.read_as})}",
    )


def _name_kind(text: str) -> str:
    t = text.strip()
    return "inchikey" if INCHIKEY.match(t.upper()) else "cas" if CAS.match(t) else "name"


_SMILES_CHARS = frozenset("BCNOPSFIHKLRbcnopsilrae0123456789[]()=#@+-\\/%.:*$~&!;,^")
_ORGANIC_LOWER = frozenset("bcnopslr")  # aromatic atoms, and the l/r of Cl and Br


def _looks_like_name(text: str) -> bool:
    """A name has a space, a character SMILES never uses, or a lower-case letter that is
    not an aromatic atom (outside brackets)."""
    t = text.strip()
    if not t or "\n" in t or len(t) > 200:
        return False
    outside = re.sub(r"\[[^\]]*\]", "", t)
    return (
        " " in t
        or any(c not in _SMILES_CHARS for c in t)
        or any(c.islower() and c not in _ORGANIC_LOWER for c in outside)
    )


def check(
    index: WatchIndex, text: str, options: CheckOptions, input_type: str | None = None
) -> CheckResult:
    """Check one query; raise StructureError (a 422) when it cannot be read."""
    parsed, named = resolve(index, text, input_type)
    return check_parsed(index, parsed, options, query=text, named=named)


def check_parsed(
    index: WatchIndex,
    parsed: Parsed,
    options: CheckOptions,
    *,
    query: str,
    named: SubstanceFact | None = None,
    fp: Any | None = None,
) -> CheckResult:
    """Check an already standardized structure against the index.

    `fp` is the query's fingerprint when the caller already has it (the index's kind, radius
    and size); it is computed here otherwise.
    """
    snap = index.snapshot
    codes = options.jurisdictions or tuple(sorted(snap.jurisdictions))
    require_jurisdictions(codes, snap.jurisdictions, ("body", "jurisdictions"))
    ident = parsed.identity
    exact = index.by_inchikey.get(ident.inchikey)
    # another stereoisomer, salt or isotopologue of a listed entry is that entry, unless the law
    # names one stereoisomer (dextromethorphan is not levomethorphan): those match exactly only
    same_skeleton = [
        s
        for s in index.by_connectivity.get(ident.connectivity, [])
        if s is not exact and s.stereo != "exact"
    ]
    # several entries of one skeleton, with the structure as given unable to tell them apart:
    # it leaves stereocentres open and none of them is the query itself
    undetermined = False
    if len(same_skeleton) > 1:
        # diastereomers of one skeleton can be listed apart (alphaprodine, betaprodine), each
        # stored as one enantiomer of its racemate: the query's mirror image names its own first
        mirror = mirror_inchikey(parsed.mol)
        if mirror is not None:
            same_skeleton.sort(key=lambda s: s.inchikey != mirror)
        undetermined = exact is None and has_open_stereocentre(parsed.mol)
    candidates = ([exact] if exact else []) + same_skeleton
    own_ids = {s.id for s in candidates}  # the query itself is `controlled_elsewhere`, not similar
    day = options.as_of
    k = options.top_k
    # the similarity search of the index (in memory, or the cartridge's): one query, one ranking
    search = index.similarity.query(index, parsed.mol, ident.smiles, fp=fp)
    subs = snap.substances
    own = frozenset(i for i, s in enumerate(subs) if s.id in own_ids) if own_ids else frozenset()

    # a substance controlled in several jurisdictions is a neighbour in each: one frozen
    # Neighbor per substance serves every list (its similarity is the query's, once)
    made: dict[int, Neighbor] = {}

    def nearest(code: str) -> list[Neighbor]:
        hits = search.nearest(k, index.controlled_positions(code, day))
        out = []
        for h in hits:
            n = made.get(h.substance_id)
            if n is None:
                n = made[h.substance_id] = _neighbor(index, h)
            out.append(n)
        return out

    def nearest_elsewhere(code: str) -> tuple[int, float] | None:
        allowed = index.controlled_elsewhere_positions(code, day)
        hits = search.nearest(1, allowed - own if own else allowed)
        return (hits[0].substance_id, round(hits[0].similarity, 4)) if hits else None

    may_match = search.may_match

    # the largest substance controlled anywhere on the day that the query contains whole, as
    # the evidence every jurisdiction's verdict shares: asked once, and only when some verdict
    # is not controlled
    container: list[Evidence | None] = []

    def contained() -> Evidence | None:
        if not container:
            inside = contained_controlled(index, search, parsed.mol, day, own)
            container.append(_containment(inside, day) if inside is not None else None)
        return container[0]

    # the largest scaffold of a substance controlled anywhere on the day that the query
    # carries, shared by every verdict like the containment
    scaffolds: list[Evidence | None] = []

    def scaffold() -> Evidence | None:
        if not scaffolds:
            shared = shared_scaffold(index, search, parsed.mol, day, own)
            scaffolds.append(_scaffold(shared, day) if shared is not None else None)
        return scaffolds[0]

    # what each candidate identity is controlled by, per jurisdiction, on the day
    controlled_here: dict[str, tuple[SubstanceFact, Any]] = {}
    # where the law lists this very stereoisomer apart (LAAM beside alphacetylmethadol, which
    # excepts it), its own acts decide there: a sibling's listing does not stand in for them
    apart = set(exact.acts) if exact is not None and exact.stereo == "exact" else set()
    for s in candidates:
        for act in s.controlled_anywhere(day):
            if s is not exact and act.jurisdiction in apart:
                continue
            controlled_here.setdefault(act.jurisdiction, (s, act))

    # class definitions in force anywhere on the day, each matched at most once per query
    classes_today = index.classes_in_force(day)
    matches: dict[int, Any] = {}
    # scaffolds the query lacks: a second definition with the same scaffold (the US and
    # Chinese fentanyl classes) need not search for it again
    lacking: set[str] = set()

    def class_result(cls: Any) -> Any:
        found = matches.get(cls.id)
        if found is None:
            compiled = cls.compiled
            if compiled.scaffold_smarts in lacking:
                found = ClassMatch(key=compiled.key, member=False)
            else:
                found = compiled.match(parsed.mol)
                if not (found.member or found.near_miss or found.core_atoms):
                    lacking.add(compiled.scaffold_smarts)
            matches[cls.id] = found
        return found

    # generic laws known but not encoded, per jurisdiction, tested once for the query's core
    concerned: dict[str, list[Caveat]] = {}
    for law in snap.unencoded:
        if law.jurisdiction in codes and law.concerns(parsed.mol):
            concerned.setdefault(law.jurisdiction, []).append(_caveat(law))

    verdicts: list[Verdict] = []
    for code in codes:
        neighbors = nearest(code)
        hit = controlled_here.get(code)
        if hit is not None:
            s, act = hit
            matched = _matched(
                s, act, "inchikey" if s.inchikey == ident.inchikey else "connectivity"
            )
            verdicts.append(
                Verdict(
                    jurisdiction=code,
                    status=Status.CONTROLLED,
                    substance=matched,
                    neighbors=neighbors,
                    alternatives=_alternatives(same_skeleton, s, act, code, day)
                    if undetermined
                    else [],
                )
            )
            continue
        near: list[NearMiss] = []
        near_why: list[Evidence] = []
        class_match: ClassMatchOut | None = None
        for cls, act in classes_today:
            if cls.jurisdiction != code:
                continue
            if not may_match(cls.id):
                continue  # no scaffold: neither a member nor a near miss
            m = class_result(cls)
            if m.member:
                class_match = ClassMatchOut(
                    key=cls.key,
                    name=cls.name,
                    clauses=[
                        ClauseOut(key=h.key, description=h.description, atoms=list(h.atoms))
                        for h in m.clauses
                    ],
                    core_atoms=list(m.core_atoms),
                    notes=list(m.notes),
                    needs_legal_review=True,
                    **act.as_dict(),
                )
                break
            if m.near_miss:
                near.append(NearMiss(key=cls.key, name=cls.name, reason=m.near_miss_reason))
                near_why.append(
                    Evidence(
                        signal="class_near_miss",
                        name=cls.name,
                        key=cls.key,
                        detail=m.near_miss_reason,
                        where=[_place(act)],
                    )
                )
        if class_match is not None:
            verdicts.append(
                Verdict(
                    jurisdiction=code,
                    status=Status.CONTROLLED_BY_CLASS,
                    class_match=class_match,
                    neighbors=neighbors,
                )
            )
            continue
        elsewhere = [
            Elsewhere(name=s.name, **{**act.as_dict(), "jurisdiction": j})
            for j, (s, act) in sorted(controlled_here.items())
            if j != code
        ]
        reasons: list[Reason] = []
        why: list[Evidence] = []
        if neighbors and neighbors[0].similarity >= options.threshold:
            reasons.append("similarity")
            first = neighbors[0]
            why.append(
                _similar("similarity", index, first.id, first.similarity, day, code=code, here=True)
            )
        if elsewhere:
            reasons.append("controlled_elsewhere")
            s = next(s for j, (s, _) in sorted(controlled_here.items()) if j != code)
            where = [_place(a) for j, (_, a) in sorted(controlled_here.items()) if j != code]
            why.append(Evidence(signal="controlled_elsewhere", name=s.name, key=s.key, where=where))
        if near:
            reasons.append("class_near_miss")
            why += near_why
        other = nearest_elsewhere(code)
        if other is not None and other[1] >= options.elsewhere_threshold:
            reasons.append("similar_elsewhere")
            why.append(_similar("similar_elsewhere", index, *other, day, code=code, here=False))
        classes_elsewhere = [
            Evidence(
                signal="class_elsewhere",
                name=cls.name,
                key=cls.key,
                detail="member" if m.member else m.near_miss_reason,
                where=[_place(act)],
            )
            for cls, act in classes_today
            if cls.jurisdiction != code
            and may_match(cls.id)
            and ((m := class_result(cls)).member or m.near_miss)
        ]
        if classes_elsewhere:
            reasons.append("class_elsewhere")
            why += classes_elsewhere
        inside = contained()
        if inside is not None:
            reasons.append("contains_controlled")
            why.append(inside)
        # a substance contained whole carries its scaffolds too: the stronger reason stands alone
        carried = scaffold() if inside is None else None
        if carried is not None:
            reasons.append("shares_scaffold")
            why.append(carried)
        verdicts.append(
            Verdict(
                jurisdiction=code,
                status=Status.LOOKALIKE if reasons else Status.NOT_FLAGGED,
                listed_later=_listed_later(candidates, code, day),
                reasons=reasons,
                controlled_elsewhere=elsewhere,
                near_misses=near,
                neighbors=neighbors,
                why=why,
                caveats=concerned.get(code, []),
                exclusions=[_exclusion(x) for x in snap.exclusions_of(ident.inchikey, code, day)],
            )
        )

    match = exact or (candidates[0] if candidates else None) or named
    return CheckResult(
        query=query,
        input_type=parsed.input_type,
        smiles=ident.smiles,
        inchikey=ident.inchikey,
        formula=ident.formula,
        as_of=day,
        threshold=options.threshold,
        registry_substance=None
        if match is None
        else RegistryRef(id=match.id, name=match.name, key=match.key, inchikey=match.inchikey),
        verdicts=verdicts,
        interpreted_as=interpretation(parsed, query),
    )


def _alternatives(
    same_skeleton: list[SubstanceFact], chosen: SubstanceFact, act: Act, code: str, day: date
) -> list[MatchedSubstance]:
    """The other entries of the query's skeleton controlled in J on the day under a schedule
    other than the matched entry's: which one applies depends on the stereoisomer meant."""
    out = []
    for s in same_skeleton:
        other = s.act_in_force(code, day) if s is not chosen else None
        if other is not None and other.schedule != act.schedule:
            out.append(_matched(s, other, "connectivity"))
    return out


def _matched(
    s: SubstanceFact, act: Act, match: Literal["inchikey", "connectivity"]
) -> MatchedSubstance:
    """A registry substance as a verdict names it, with the act controlling it."""
    return MatchedSubstance(
        id=s.id, name=s.name, key=s.key, inchikey=s.inchikey, match=match, **act.as_dict()
    )


def _listed_later(candidates: list[SubstanceFact], code: str, day: date) -> ListedLater | None:
    """The consolidated list that shows the query controlled in J by a later day, when that is
    all the registry knows of its control there: then the status on the day is not known."""
    for s in candidates:
        first = first_control(s.acts.get(code, ()))
        if first is not None and first.kind == "listed_by" and first.effective_date > day:
            return ListedLater(name=s.name, key=s.key, **first.as_dict())
    return None


def _nearest_controlled(
    index: WatchIndex,
    search: Any,
    day: date,
    own: frozenset[int],
    candidates: int,
    min_similarity: float,
) -> Iterator[Hit]:
    """The substances controlled anywhere on the day most similar to the query, most similar
    first, down to `min_similarity` (the query's own identity left out)."""
    allowed = index.controlled_anywhere_positions(day)
    for h in search.nearest(candidates, allowed - own if own else allowed):
        if h.similarity < min_similarity:
            return  # most similar first: the rest are less similar still
        yield h


def contained_controlled(
    index: WatchIndex,
    search: Any,
    mol: Any,
    day: date,
    own: frozenset[int] = frozenset(),
    *,
    min_atoms: int = CONTAINS_MIN_ATOMS,
    min_share: float = CONTAINS_MIN_SHARE,
    min_similarity: float = CONTAINS_MIN_SIMILARITY,
    candidates: int = CONTAINS_CANDIDATES,
) -> tuple[SubstanceFact, float, int, int] | None:
    """(substance, similarity, its heavy atoms, the query's) of the largest substance controlled
    anywhere on the day that the query contains whole, among its most similar, or None.

    `search` is the query's `SearchQuery`; `own` the positions of the query's own identity.
    The parameters are the service's (`CONTAINS_*`); `bench/containment_scan.py` varies them.
    """
    n = mol.GetNumHeavyAtoms()
    if n <= min_atoms:
        return None
    best: tuple[SubstanceFact, float, int, int] | None = None
    for h in _nearest_controlled(index, search, day, own, candidates, min_similarity):
        s = index.by_id[h.substance_id]
        size = s.mol.GetNumHeavyAtoms()
        if not min_atoms <= size < n or size < min_share * n:
            continue
        if best is not None and size <= best[2]:
            continue
        # a racemate listed beside its enantiomers (stereo-exact, no stereo drawn) adds
        # nothing of its own: its enantiomers are the entries that count
        if s.stereo == "exact" and "@" not in s.smiles:
            continue
        if contained_atoms(mol, s):
            best = (s, round(h.similarity, 4), size, n)
    return best


def shared_scaffold(
    index: WatchIndex,
    search: Any,
    mol: Any,
    day: date,
    own: frozenset[int] = frozenset(),
    *,
    min_atoms: int = SCAFFOLD_MIN_ATOMS,
    min_share: float = SCAFFOLD_MIN_SHARE,
    min_similarity: float = SCAFFOLD_MIN_SIMILARITY,
    candidates: int = CONTAINS_CANDIDATES,
) -> tuple[SubstanceFact, float, Core, int] | None:
    """(substance, similarity, scaffold, the query's heavy atoms) of the largest scaffold of a
    substance controlled anywhere on the day that the query contains whole, among its most
    similar, or None.

    `search` is the query's `SearchQuery`; `own` the positions of the query's own identity.
    The parameters are the service's (`SCAFFOLD_*`); `bench/containment_scan.py` varies them.
    """
    n = mol.GetNumHeavyAtoms()
    floor = max(min_atoms, min_share * n)
    if n < floor:
        return None
    best: tuple[SubstanceFact, float, Core, int] | None = None
    for h in _nearest_controlled(index, search, day, own, candidates, min_similarity):
        for core in index.cores(h.substance_id):
            if core.size < floor or (best is not None and core.size <= best[2].size):
                break  # largest first: the rest are smaller still
            if core.size <= n and mol.HasSubstructMatch(core.mol):
                best = (index.by_id[h.substance_id], round(h.similarity, 4), core, n)
                break
    return best


def scaffold_atoms(mol: Any, scaffold: str) -> list[int]:
    """The query's atoms that a scaffold (SMILES) it contains occupies (empty when it does not)."""
    pattern = Chem.MolFromSmiles(scaffold)
    return [] if pattern is None else list(mol.GetSubstructMatch(pattern))


STRUCTURAL = ("contains_controlled", "shares_scaffold")
"""The signals that point at atoms of the query: what a depiction of it highlights."""


def structural_evidence(why: Iterable[Evidence]) -> Evidence | None:
    """The first reason that points at atoms of the query (a contained substance before a
    shared scaffold), or None."""
    found = {e.signal: e for e in why if e.signal in STRUCTURAL}
    return next((found[s] for s in STRUCTURAL if s in found), None)


def evidence_atoms(index: WatchIndex, mol: Any, evidence: Evidence) -> list[int]:
    """The query's atoms a structural reason points at: the contained substance, or the shared
    scaffold (empty for other reasons, or a substance no longer in the index)."""
    if evidence.signal == "shares_scaffold" and evidence.scaffold:
        return scaffold_atoms(mol, evidence.scaffold)
    held = index.lookup_name(evidence.key) if evidence.signal == "contains_controlled" else None
    return contained_atoms(mol, held) if held is not None else []


def contained_atoms(mol: Any, held: SubstanceFact) -> list[int]:
    """The query's atoms that a substance it contains whole occupies (empty when it does not
    contain it). Where the law names one stereoisomer (levorphanol, not dextrorphan), only
    that stereoisomer counts."""
    return list(mol.GetSubstructMatch(held.mol, useChirality=held.stereo == "exact"))


def _containment(inside: tuple[SubstanceFact, float, int, int], day: date) -> Evidence:
    s, similarity, size, n = inside
    return Evidence(
        signal="contains_controlled",
        name=s.name,
        key=s.key,
        similarity=similarity,
        detail=f"contained whole in the query: {size} of the query's {n} heavy atoms",
        where=_everywhere(s, day),
    )


def _everywhere(s: SubstanceFact, day: date) -> list[Place]:
    """Where a substance is controlled on the day, by jurisdiction code."""
    return [_place(a) for a in sorted(s.controlled_anywhere(day), key=lambda a: a.jurisdiction)]


def _scaffold(shared: tuple[SubstanceFact, float, Core, int], day: date) -> Evidence:
    s, similarity, core, n = shared
    return Evidence(
        signal="shares_scaffold",
        name=s.name,
        key=s.key,
        similarity=similarity,
        detail=f"shares its scaffold: {core.size} of the query's {n} heavy atoms",
        scaffold=core.smiles,
        where=_everywhere(s, day),
    )


def _exclusion(x: ExclusionFact) -> ExclusionOut:
    return ExclusionOut(
        name=x.name,
        excluded_from=x.excluded_from,
        written_in=x.written_in,
        in_force_by=x.in_force_by,
        citation=x.citation,
        source=x.source,
    )


def _caveat(law: UnencodedFact) -> Caveat:
    return Caveat(
        key=law.key,
        name=law.name,
        jurisdiction=law.jurisdiction,
        schedule=law.schedule,
        core=law.trigger_description,
        known_in_force_by=law.known_in_force_by,
        citation=law.citation,
        source=law.source,
        why_unencoded=law.why_unencoded,
    )


def _place(act: Act) -> Place:
    return Place.model_construct(
        jurisdiction=act.jurisdiction, in_force_from=act.effective_date, citation=act.citation
    )


def _similar(
    signal: Reason,
    index: WatchIndex,
    substance_id: int,
    similarity: float,
    day: date,
    *,
    code: str,
    here: bool,
) -> Evidence:
    """Why a similarity signal fired: the listed neighbour, where (in J, or else) and since when."""
    s = index.by_id[substance_id]
    where = sorted(
        (_place(a) for a in s.controlled_anywhere(day) if (a.jurisdiction == code) == here),
        key=lambda p: p.jurisdiction,
    )
    return Evidence(signal=signal, name=s.name, key=s.key, similarity=similarity, where=where)


def _neighbor(index: WatchIndex, hit: Hit) -> Neighbor:
    """A search hit as the verdict names it: the substance and its similarity to 4 places."""
    s = index.by_id[hit.substance_id]
    # registry data and a float from the search: nothing to validate, so no validation cost
    return Neighbor.model_construct(
        name=s.name, inchikey=s.inchikey, id=s.id, similarity=round(hit.similarity, 4)
    )
