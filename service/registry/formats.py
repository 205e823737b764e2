"""Read and validate the files of schedules/ into typed records.

Every problem in every file is collected before anything is loaded, each reported as
`file:line: column: reason`. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from service.chem.errors import StructureError
from service.chem.standardize import Identity, parent, parse_smiles
from service.chem.standardize import identity as identity_of
from service.dates import PartialDate
from service.models.common import FAMILIES, ActionKind, Precision, ReporterType
from service.registry.classfile import ClassFile, UnencodedFile, problems_of

EARLIEST = date(1900, 1, 1)
KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PLACE = re.compile(r"^(?:[A-Z]{2}|EU|XX)$")
INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
CAS = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
LIST_SEPARATOR = "|"

SUBSTANCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "required": ("key", "name", "smiles", "formula", "family", "nps", "source"),
    "optional": (
        "synonyms",
        "systematic_name",
        "cas",
        "name_source",
        "inchikey",
        "stereo",
        "notes",
    ),
}
ACTION_COLUMNS = {
    "required": ("substance", "jurisdiction", "kind", "effective_date", "citation", "source"),
    "optional": (
        "schedule",
        "end_date",
        "code",
        "source_kind",
        "secondary_source",
        "why_no_primary",
        "notes",
    ),
}
SOURCE_KINDS = ("primary", "secondary")
STEREO_MODES = ("exact",)
APPEARANCE_COLUMNS = {
    "required": ("substance", "date", "place", "reporter_type", "source"),
    "optional": ("reporter", "notes"),
}
EXCLUSION_COLUMNS = {
    "required": (
        "name",
        "jurisdiction",
        "excluded_from",
        "smiles",
        "inchikey",
        "structure_source",
        "in_force_by",
        "citation",
        "source",
    ),
    "optional": ("secondary_source", "quote", "notes"),
}
JURISDICTION_COLUMNS = {
    "required": ("code", "name", "kind", "source"),
    "optional": ("members", "includes"),
}


def _limits(model: Any, **renamed: str) -> dict[str, int]:
    """Column -> maximum length, from the table definition (so PostgreSQL never truncates)."""
    out = {}
    for col in model.__table__.columns:
        length = getattr(col.type, "length", None)
        if length:
            out[col.name] = length
    for file_col, model_col in renamed.items():
        out[file_col] = out.pop(model_col)
    return out


def _model_limits() -> dict[str, dict[str, int]]:
    from service.models import (
        Appearance,
        ClassAction,
        ClassDefinition,
        ControlAction,
        Exclusion,
        Jurisdiction,
        Substance,
        Synonym,
        UnencodedLaw,
    )

    return {
        "jurisdictions": _limits(Jurisdiction),
        "substances": {
            **_limits(Substance, smiles="input_smiles"),
            "synonym": _limits(Synonym)["name"],
        },
        "actions": _limits(ControlAction),
        "appearances": _limits(Appearance),
        "classes": _limits(ClassDefinition),
        "class_actions": _limits(ClassAction),
        "unencoded": _limits(UnencodedLaw),
        "exclusions": _limits(Exclusion, smiles="input_smiles"),
    }


LIMITS = _model_limits()


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cell of one file."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.reason}"


@dataclass(slots=True)
class JurisdictionRow:
    code: str
    name: str
    kind: str
    members: str
    includes: str
    source: str


@dataclass(slots=True)
class SubstanceRow:
    key: str
    name: str
    synonyms: list[str]
    systematic_name: str
    name_source: str
    cas: str
    input_smiles: str
    identity: Identity
    family: str
    nps: bool
    source: str
    notes: str
    where: str
    stereo: str = ""  # "exact": matched by full InChIKey only (the law names this stereoisomer)
    stated_inchikey: str = ""  # as stated by PubChem or GSRS, checked against the structure


@dataclass(slots=True)
class ActionRow:
    substance: str
    jurisdiction: str
    kind: str
    schedule: str
    effective_date: date
    end_date: date | None
    citation: str
    source: str
    notes: str
    where: str
    effective_precision: str = "day"  # a permanent act may be known only to a month or year
    code: str = ""  # the jurisdiction's code number (a DEA controlled-substance code)
    source_kind: str = ""  # "primary" (the legal text or its official publisher) or "secondary"
    secondary_source: str = ""
    why_no_primary: str = ""


@dataclass(slots=True)
class AppearanceRow:
    substance: str
    date: PartialDate
    place: str
    reporter_type: str
    reporter: str
    source: str
    notes: str
    where: str


@dataclass(slots=True)
class ClassActionRow:
    kind: str
    effective_date: date
    end_date: date | None
    citation: str
    source: str
    notes: str


@dataclass(slots=True)
class ClassRow:
    key: str
    jurisdiction: str
    name: str
    schedule: str
    legal_text: str
    rules: dict[str, Any]
    examples: list[dict[str, Any]]
    source: str
    notes: str
    actions: list[ClassActionRow]
    where: str


@dataclass(slots=True)
class UnencodedRow:
    key: str
    jurisdiction: str
    name: str
    schedule: str
    trigger: str
    trigger_description: str
    known_in_force_by: date
    citation: str
    source: str
    quote: str
    why_unencoded: str
    notes: str
    where: str


@dataclass(slots=True)
class ExclusionRow:
    """A substance the law of `jurisdiction` names as outside `excluded_from`."""

    name: str
    jurisdiction: str
    excluded_from: str
    input_smiles: str
    identity: Identity
    structure_source: str
    in_force_by: date
    citation: str
    source: str
    secondary_source: str
    quote: str
    notes: str
    where: str


@dataclass(slots=True)
class Registry:
    """Everything read from one schedules/ directory, with the problems found."""

    directory: Path
    jurisdictions: list[JurisdictionRow] = field(default_factory=list)
    substances: list[SubstanceRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    appearances: list[AppearanceRow] = field(default_factory=list)
    classes: list[ClassRow] = field(default_factory=list)
    unencoded: list[UnencodedRow] = field(default_factory=list)
    exclusions: list[ExclusionRow] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    known_keys: set[str] = field(default_factory=set)
    rows_per_file: dict[str, int] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """One SHA-256 over every file's name and checksum: equal digests, equal registries."""
        h = hashlib.sha256()
        for name in sorted(self.checksums):
            h.update(f"{name}\0{self.checksums[name]}\n".encode())
        return h.hexdigest()


def cas_is_valid(cas: str) -> bool:
    """Check the format and check digit of a CAS Registry Number."""
    m = CAS.match(cas)
    if not m:
        return False
    digits = (m.group(1) + m.group(2))[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(m.group(3))


class _Reader:
    """Collects problems for one registry while files are read."""

    def __init__(self, registry: Registry, today: date) -> None:
        self.reg = registry
        self.today = today

    def problem(self, where: str, line: int, column: str, reason: str) -> None:
        self.reg.problems.append(Problem(where, line, column, reason))

    def csv_rows(
        self, path: Path, columns: dict[str, tuple[str, ...]]
    ) -> list[tuple[int, dict[str, str]]]:
        """Rows of a CSV file with their line numbers; header problems are reported."""
        name = path.relative_to(self.reg.directory).as_posix()
        raw = path.read_bytes()
        self.reg.checksums[name] = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problem(name, 1, "-", f"not UTF-8 ({exc.reason} at byte {exc.start})")
            return []
        reader = csv.DictReader(text.splitlines(keepends=True))
        header = reader.fieldnames or []
        missing = [c for c in columns["required"] if c not in header]
        unknown = [c for c in header if c not in columns["required"] + columns["optional"]]
        for c in missing:
            self.problem(name, 1, c, "required column is missing")
        for c in unknown:
            self.problem(name, 1, c or "(empty)", "unknown column")
        if missing:
            return []
        rows = []
        try:
            for row in reader:
                if None in row:
                    self.problem(name, reader.line_num, "-", "more cells than header columns")
                    continue
                cleaned = {k: (v or "").strip() for k, v in row.items() if k}
                if not any(cleaned.values()):
                    continue
                rows.append((reader.line_num, cleaned))
        except csv.Error as exc:
            self.problem(name, reader.line_num, "-", f"CSV syntax: {exc}")
        self.reg.rows_per_file[name] = len(rows)
        return rows

    def complete_rows(
        self, sub: str, columns: dict[str, tuple[str, ...]], limits: dict[str, int]
    ) -> Iterator[tuple[str, int, dict[str, str]]]:
        """(file, line, row) of every CSV file under `sub` whose row has every required value
        and fits its columns; the other rows are reported as problems."""
        for path in _csv_files(self.reg, sub):
            name = path.relative_to(self.reg.directory).as_posix()
            for line, row in self.csv_rows(path, columns):
                if self.required(name, line, row, columns["required"]) and self.fits(
                    name, line, row, limits
                ):
                    yield name, line, row

    def unique(
        self, seen: dict[Any, str], key: Any, name: str, line: int, column: str, what: str
    ) -> bool:
        """True the first time `key` is met; after that, a problem naming where it was first."""
        if key in seen:
            self.problem(name, line, column, f"duplicate {what} (first at {seen[key]})")
            return False
        seen[key] = f"{name}:{line}"
        return True

    def fits(self, name: str, line: int, row: dict[str, Any], limits: dict[str, int]) -> bool:
        """Report every value longer than its column allows."""
        ok = True
        for col, value in row.items():
            limit = limits.get(col)
            if limit is not None and isinstance(value, str) and len(value) > limit:
                self.problem(name, line, col, f"is {len(value)} characters; the limit is {limit}")
                ok = False
        return ok

    def required(self, name: str, line: int, row: dict[str, str], columns: tuple[str, ...]) -> bool:
        ok = True
        for c in columns:
            if not row.get(c):
                reason = "missing source" if c == "source" else "required value is empty"
                self.problem(name, line, c, reason)
                ok = False
        return ok

    def day(
        self, name: str, line: int, column: str, text: str, *, future_ok: bool = False
    ) -> date | None:
        """Parse a date that must have day precision and lie in [1900, today].

        `future_ok` admits a scheduled lapse (the end date of a temporary order in force).
        """
        pd = self.partial(name, line, column, text, future_ok=future_ok)
        if pd is None:
            return None
        if pd.precision is not Precision.day:
            self.problem(name, line, column, f"{text!r}: a legal act needs a day (YYYY-MM-DD)")
            return None
        return pd.earliest

    def partial(
        self, name: str, line: int, column: str, text: str, *, future_ok: bool = False
    ) -> PartialDate | None:
        try:
            pd = PartialDate.parse(text)
        except ValueError as exc:
            self.problem(name, line, column, f"bad date: {exc}")
            return None
        # ten years ahead; 29 February moves to 28 February in a year without it
        ahead = (
            self.today.replace(day=28)
            if (self.today.month, self.today.day) == (2, 29)
            else self.today
        )
        latest = ahead.replace(year=ahead.year + 10) if future_ok else self.today
        if pd.earliest < EARLIEST or pd.earliest > latest:
            bound = "within ten years from today" if future_ok else "today"
            self.problem(name, line, column, f"{text!r} is not between 1900 and {bound}")
            return None
        return pd


def read_registry(directory: Path, *, today: date | None = None) -> Registry:
    """Read and validate every file under `directory`; problems are in `.problems`."""
    reg = Registry(directory=directory)
    r = _Reader(reg, today or date.today())
    if not directory.is_dir():
        r.problem(str(directory), 0, "-", "registry directory does not exist")
        return reg
    _read_jurisdictions(r)
    _read_substances(r)
    _read_actions(r)
    _read_appearances(r)
    _read_classes(r)
    _read_unencoded(r)
    _read_exclusions(r)
    return reg


def _csv_files(reg: Registry, sub: str) -> list[Path]:
    """Every CSV file under `sub`, in sub-directories too (`actions/us/fentanyl.csv`)."""
    return sorted((reg.directory / sub).rglob("*.csv"))


def _read_jurisdictions(r: _Reader) -> None:
    path = r.reg.directory / "jurisdictions.csv"
    if not path.is_file():
        r.problem("jurisdictions.csv", 0, "-", "file is missing")
        return
    seen: set[str] = set()
    includes: list[tuple[int, str, str]] = []
    for line, row in r.csv_rows(path, JURISDICTION_COLUMNS):
        if not r.required("jurisdictions.csv", line, row, JURISDICTION_COLUMNS["required"]):
            continue
        if not r.fits("jurisdictions.csv", line, row, LIMITS["jurisdictions"]):
            continue
        code = row["code"]
        if not re.fullmatch(r"[A-Z]{2,8}", code):
            r.problem("jurisdictions.csv", line, "code", f"{code!r} is not an upper-case code")
        elif code in seen:
            r.problem("jurisdictions.csv", line, "code", f"duplicate jurisdiction {code}")
        if row["kind"] not in ("national", "supranational", "international"):
            r.problem("jurisdictions.csv", line, "kind", f"unknown kind {row['kind']!r}")
        seen.add(code)
        includes.append((line, code, row.get("includes", "")))
        r.reg.jurisdictions.append(
            JurisdictionRow(
                code,
                row["name"],
                row["kind"],
                row.get("members", ""),
                row.get("includes", ""),
                row["source"],
            )
        )
    for line, code, included in includes:
        for inc in filter(None, included.split("|")):
            if inc not in seen or inc == code:
                r.problem(
                    "jurisdictions.csv",
                    line,
                    "includes",
                    f"{inc!r} is not another known jurisdiction",
                )


def _read_substances(r: _Reader) -> None:
    keys: dict[str, str] = {}
    inchikeys: dict[str, str] = {}
    for path in _csv_files(r.reg, "substances"):
        name = path.relative_to(r.reg.directory).as_posix()
        for line, row in r.csv_rows(path, SUBSTANCE_COLUMNS):
            where = f"{name}:{line}"
            if not r.required(name, line, row, SUBSTANCE_COLUMNS["required"]):
                continue
            long_synonyms = [
                x
                for x in row.get("synonyms", "").split(LIST_SEPARATOR)
                if len(x.strip()) > LIMITS["substances"]["synonym"]
            ]
            if long_synonyms:
                r.problem(
                    name,
                    line,
                    "synonyms",
                    f"a synonym is longer than {LIMITS['substances']['synonym']} characters",
                )
            if not r.fits(name, line, row, LIMITS["substances"]) or long_synonyms:
                continue
            key = row["key"]
            ok = True
            if not KEY.match(key):
                r.problem(name, line, "key", f"{key!r} must be lower-case [a-z0-9-]")
                ok = False
            elif key in keys:
                r.problem(name, line, "key", f"duplicate key {key!r} (first at {keys[key]})")
                ok = False
            keys.setdefault(key, where)
            if row["family"] not in FAMILIES:
                r.problem(name, line, "family", f"unknown family {row['family']!r}")
                ok = False
            if row["nps"] not in ("true", "false"):
                r.problem(name, line, "nps", f"{row['nps']!r} is not true or false")
                ok = False
            cas = row.get("cas", "")
            if cas and not cas_is_valid(cas):
                r.problem(name, line, "cas", f"{cas!r} is not a valid CAS number (check digit)")
                ok = False
            try:
                ident = identity_of(parent(parse_smiles(row["smiles"])))
            except StructureError as exc:
                r.problem(name, line, "smiles", f"unparseable SMILES: {exc}")
                continue
            if ident.formula != row["formula"]:
                r.problem(
                    name,
                    line,
                    "formula",
                    f"stated {row['formula']} but the structure is {ident.formula}",
                )
                ok = False
            stated = row.get("inchikey", "")
            if stated and not INCHIKEY.match(stated):
                r.problem(name, line, "inchikey", f"{stated!r} is not an InChIKey")
                ok = False
            elif stated and stated[:14] != ident.connectivity:
                r.problem(
                    name, line, "inchikey", f"stated {stated} but the structure is {ident.inchikey}"
                )
                ok = False
            stereo = row.get("stereo", "")
            if stereo not in ("", *STEREO_MODES):
                r.problem(name, line, "stereo", f"{stereo!r} is not empty or one of {STEREO_MODES}")
                ok = False
            if ident.inchikey in inchikeys:
                r.problem(
                    name,
                    line,
                    "smiles",
                    f"duplicate structure: same InChIKey {ident.inchikey} as {inchikeys[ident.inchikey]}",
                )
                ok = False
            inchikeys.setdefault(ident.inchikey, where)
            if not ok:
                continue
            synonyms = [s.strip() for s in row.get("synonyms", "").split(LIST_SEPARATOR)]
            r.reg.substances.append(
                SubstanceRow(
                    key=key,
                    name=row["name"],
                    synonyms=[s for s in synonyms if s],
                    systematic_name=row.get("systematic_name", ""),
                    name_source=row.get("name_source", ""),
                    cas=cas,
                    input_smiles=row["smiles"],
                    identity=ident,
                    family=row["family"],
                    nps=row["nps"] == "true",
                    source=row["source"],
                    notes=row.get("notes", ""),
                    where=where,
                    stereo=stereo,
                    stated_inchikey=stated,
                )
            )
    # keys whose row failed validation still count as known, so a reference to them is
    # not reported a second time as an unknown substance
    r.reg.known_keys = set(keys)


def _jurisdiction_codes(r: _Reader) -> set[str]:
    return {j.code for j in r.reg.jurisdictions}


def _read_actions(r: _Reader) -> None:
    codes = _jurisdiction_codes(r)
    known = r.reg.known_keys
    seen: dict[tuple[str, str, str, date], str] = {}
    for name, line, row in r.complete_rows("actions", ACTION_COLUMNS, LIMITS["actions"]):
        ok = True
        if row["substance"] not in known:
            r.problem(
                name, line, "substance", f"action for an unknown substance {row['substance']!r}"
            )
            ok = False
        if row["jurisdiction"] not in codes:
            r.problem(name, line, "jurisdiction", f"unknown jurisdiction {row['jurisdiction']!r}")
            ok = False
        if row["kind"] not in ActionKind.__members__:
            r.problem(name, line, "kind", f"unknown kind {row['kind']!r}")
            ok = False
        source_kind = row.get("source_kind", "")
        if source_kind and source_kind not in SOURCE_KINDS:
            r.problem(name, line, "source_kind", f"{source_kind!r} is not one of {SOURCE_KINDS}")
            ok = False
        if row["kind"] == ActionKind.permanent:
            # an old listing may be dated by its source to a month or a year only
            written = r.partial(name, line, "effective_date", row["effective_date"])
        else:
            day = r.day(name, line, "effective_date", row["effective_date"])
            written = PartialDate(day, Precision.day) if day else None
        end = (
            r.day(name, line, "end_date", row["end_date"], future_ok=True)
            if row.get("end_date")
            else None
        )
        if written is None or (row.get("end_date") and end is None):
            continue
        eff = written.earliest
        if end is not None and end < written.latest:
            r.problem(
                name,
                line,
                "end_date",
                f"{end} is before the effective date {row['effective_date']}",
            )
            ok = False
        nk = (row["substance"], row["jurisdiction"], row["kind"], eff)
        if not r.unique(seen, nk, name, line, "effective_date", "action"):
            ok = False
        if ok:
            r.reg.actions.append(
                ActionRow(
                    row["substance"],
                    row["jurisdiction"],
                    row["kind"],
                    row.get("schedule", ""),
                    eff,
                    end,
                    row["citation"],
                    row["source"],
                    row.get("notes", ""),
                    f"{name}:{line}",
                    written.precision.value,
                    code=row.get("code", ""),
                    source_kind=source_kind,
                    secondary_source=row.get("secondary_source", ""),
                    why_no_primary=row.get("why_no_primary", ""),
                )
            )
    _check_temporary_followed(r)


def _check_temporary_followed(r: _Reader) -> None:
    """A temporary order needs an end date or a later act on the same substance there."""
    by_pair: dict[tuple[str, str], list[ActionRow]] = {}
    for a in r.reg.actions:
        by_pair.setdefault((a.substance, a.jurisdiction), []).append(a)
    for a in r.reg.actions:
        if a.kind != ActionKind.temporary or a.end_date is not None:
            continue
        later = [
            b
            for b in by_pair[(a.substance, a.jurisdiction)]
            if b is not a and b.effective_date >= a.effective_date
        ]
        if not later:
            file, line = a.where.rsplit(":", 1)
            r.problem(
                file,
                int(line),
                "end_date",
                "temporary order without an end date or a follow-up act",
            )


def _read_appearances(r: _Reader) -> None:
    known = r.reg.known_keys
    seen: dict[tuple[str, date, str, str, str], str] = {}
    for name, line, row in r.complete_rows(
        "appearances", APPEARANCE_COLUMNS, LIMITS["appearances"]
    ):
        ok = True
        if row["substance"] not in known:
            r.problem(
                name,
                line,
                "substance",
                f"appearance of an unknown substance {row['substance']!r}",
            )
            ok = False
        if not PLACE.match(row["place"]):
            r.problem(name, line, "place", f"{row['place']!r} is not a country code, EU or XX")
            ok = False
        if row["reporter_type"] not in ReporterType.__members__:
            r.problem(
                name, line, "reporter_type", f"unknown reporter type {row['reporter_type']!r}"
            )
            ok = False
        pd = r.partial(name, line, "date", row["date"])
        if pd is None:
            continue
        nk = (
            row["substance"],
            pd.earliest,
            pd.precision.value,
            row["place"],
            row["reporter_type"],
        )
        if not r.unique(seen, nk, name, line, "date", "appearance"):
            ok = False
        if ok:
            r.reg.appearances.append(
                AppearanceRow(
                    row["substance"],
                    pd,
                    row["place"],
                    row["reporter_type"],
                    row.get("reporter", ""),
                    row["source"],
                    row.get("notes", ""),
                    f"{name}:{line}",
                )
            )


_TomlModel = TypeVar("_TomlModel", ClassFile, UnencodedFile)


def _toml_files(
    r: _Reader, sub: str, shape: type[_TomlModel], key_noun: str
) -> Iterator[tuple[str, dict[str, Any], _TomlModel, bool]]:
    """Each `sub/*.toml` file of the registry, read, checksummed and validated against its
    shape: (name, its tables, the model, whether its lengths, key and jurisdiction are good).
    A file whose TOML or shape is broken is reported and skipped."""
    codes = _jurisdiction_codes(r)
    seen: set[str] = set()
    for path in sorted((r.reg.directory / sub).glob("*.toml")):
        name = path.relative_to(r.reg.directory).as_posix()
        raw = path.read_bytes()
        r.reg.checksums[name] = hashlib.sha256(raw).hexdigest()
        r.reg.rows_per_file[name] = 1
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            r.problem(name, getattr(exc, "lineno", 1) or 1, "-", f"TOML syntax: {exc}")
            continue
        try:
            model = shape.model_validate(data)
        except ValidationError as exc:
            for column, reason in problems_of(exc):
                r.problem(name, 1, column, reason)
            continue
        top = {k: v for k, v in data.items() if isinstance(v, str)}
        ok = r.fits(name, 1, top, LIMITS[sub])
        if model.key in seen:
            r.problem(name, 1, "key", f"duplicate {key_noun} {model.key!r}")
            ok = False
        seen.add(model.key)
        if model.jurisdiction not in codes:
            r.problem(name, 1, "jurisdiction", f"unknown jurisdiction {model.jurisdiction!r}")
            ok = False
        yield name, data, model, ok


def _read_classes(r: _Reader) -> None:
    from service.chem.classes import validate_rules

    for name, data, model, ok in _toml_files(r, "classes", ClassFile, "class key"):
        # the chemistry: SMARTS and SMILES parse, references resolve, the parent matches
        for msg in validate_rules(data["rules"]):
            field_, _, reason = msg.partition(": ")
            r.problem(name, 1, field_, reason or msg)
            ok = False
        actions: list[ClassActionRow] = []
        for i, (act, table) in enumerate(zip(model.actions, data["actions"], strict=True)):
            col = f"actions[{i}]"
            if not r.fits(
                name,
                1,
                {f"{col}.{k}": v for k, v in table.items()},
                {f"{col}.{k}": v for k, v in LIMITS["class_actions"].items()},
            ):
                ok = False
            eff = r.day(name, 1, f"{col}.effective_date", str(act.effective_date))
            end = (
                r.day(name, 1, f"{col}.end_date", str(act.end_date), future_ok=True)
                if act.end_date
                else None
            )
            if eff is None:
                ok = False
                continue
            if end is not None and end < eff:
                r.problem(name, 1, f"{col}.end_date", f"{end} is before the effective date {eff}")
                ok = False
            actions.append(
                ClassActionRow(act.kind.value, eff, end, act.citation, act.source, act.notes)
            )
        if ok:
            r.reg.classes.append(
                ClassRow(
                    key=model.key,
                    jurisdiction=model.jurisdiction,
                    name=model.name,
                    schedule=str(model.schedule),
                    legal_text=model.legal_text,
                    # the file's own tables, key order kept: what the loader stores and
                    # compile_class reads (the model has checked their shape)
                    rules=data["rules"],
                    examples=list(model.examples),
                    source=model.source,
                    notes=model.notes,
                    actions=actions,
                    where=name,
                )
            )


def _read_unencoded(r: _Reader) -> None:
    """Generic laws known to be in force but not encoded (`unencoded/*.toml`): each names the
    core that concerns it, which must parse as SMARTS, hold for every named member and fail
    for every named non-member."""
    from rdkit import Chem

    for name, _data, model, ok in _toml_files(r, "unencoded", UnencodedFile, "key"):
        by = r.day(name, 1, "known_in_force_by", str(model.known_in_force_by))
        ok = ok and by is not None
        trigger = Chem.MolFromSmarts(model.trigger)
        if trigger is None:
            r.problem(name, 1, "trigger", f"not a SMARTS RDKit can read: {model.trigger!r}")
            continue
        for column, smiles_list, want in (
            ("members", model.members, True),
            ("non_members", model.non_members, False),
        ):
            for i, smi in enumerate(smiles_list):
                try:
                    mol = parent(parse_smiles(smi))
                except StructureError as exc:
                    r.problem(name, 1, f"{column}[{i}]", f"not a readable SMILES: {exc}")
                    ok = False
                    continue
                if mol.HasSubstructMatch(trigger) != want:
                    has = "lacks" if want else "has"
                    r.problem(name, 1, f"{column}[{i}]", f"{smi!r} {has} the trigger core")
                    ok = False
        if ok and by is not None:
            r.reg.unencoded.append(
                UnencodedRow(
                    key=model.key,
                    jurisdiction=model.jurisdiction,
                    name=model.name,
                    schedule=model.schedule,
                    trigger=model.trigger,
                    trigger_description=model.trigger_description,
                    known_in_force_by=by,
                    citation=model.citation,
                    source=model.source,
                    quote=model.quote,
                    why_unencoded=model.why_unencoded,
                    notes=model.notes,
                    where=name,
                )
            )


def _read_exclusions(r: _Reader) -> None:
    """`exclusions/<jurisdiction>.csv`: substances a law names as outside its schedules.

    The structure must be exactly the stated InChIKey (stereo included: the law excludes one
    stereoisomer, dextromethorphan, where it controls another), and the day must be a day.
    """
    codes = _jurisdiction_codes(r)
    seen: dict[tuple[str, str, str], str] = {}
    for name, line, row in r.complete_rows("exclusions", EXCLUSION_COLUMNS, LIMITS["exclusions"]):
        ok = True
        if row["jurisdiction"] not in codes:
            r.problem(name, line, "jurisdiction", f"unknown jurisdiction {row['jurisdiction']!r}")
            ok = False
        day = r.day(name, line, "in_force_by", row["in_force_by"])
        if day is None:
            ok = False
        stated = row["inchikey"]
        try:
            ident = identity_of(parent(parse_smiles(row["smiles"])))
        except StructureError as exc:
            r.problem(name, line, "smiles", f"unparseable SMILES: {exc}")
            continue
        if not INCHIKEY.match(stated):
            r.problem(name, line, "inchikey", f"{stated!r} is not an InChIKey")
            ok = False
        elif stated != ident.inchikey:
            r.problem(
                name,
                line,
                "inchikey",
                f"stated {stated} but the structure is {ident.inchikey} "
                "(an exclusion names one stereoisomer: the whole key must agree)",
            )
            ok = False
        nk = (row["jurisdiction"], ident.inchikey, row["excluded_from"])
        if not r.unique(seen, nk, name, line, "inchikey", "exclusion"):
            ok = False
        if not ok or day is None:
            continue
        r.reg.exclusions.append(
            ExclusionRow(
                name=row["name"],
                jurisdiction=row["jurisdiction"],
                excluded_from=row["excluded_from"],
                input_smiles=row["smiles"],
                identity=ident,
                structure_source=row["structure_source"],
                in_force_by=day,
                citation=row["citation"],
                source=row["source"],
                secondary_source=row.get("secondary_source", ""),
                quote=row.get("quote", ""),
                notes=row.get("notes", ""),
                where=f"{name}:{line}",
            )
        )
