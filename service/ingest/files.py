"""Read an import file (CSV or SDF) into raw rows with their line numbers; no chemistry here.

CSV columns (header names exact, order free):

* `structure` — SMILES or InChI of the compound, or
* `name` — with no structure: a substance already in the registry (name, synonym, CAS number,
  key or InChIKey); with a structure: the name a new substance gets;
* `date` — `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: the precision is what the source states;
* `place` — ISO country code, `EU`, or `XX` (several / unknown);
* `reporter_type` — eu_ews, unodc_ewa, national_forensic, seizure, literature, other;
* `source` — where the report is published (required);
* optional: `reporter`, `notes`, `family` (of a new substance; default `other`).

SDF: the molfile is the structure and the title line the default `name`; the other
columns are data items (`> <date>` …). Data items the importer does not know are ignored
(SD files carry many); unknown CSV columns are an error (they are usually typos).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import PurePath

from service.chem import sdf

COLUMNS = {
    "required": ("date", "place", "reporter_type", "source"),
    "optional": ("structure", "name", "reporter", "notes", "family"),
}
MAX_ROWS = 10_000
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one field of one row (line 0: the file as a whole)."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RawRow:
    """One record as text: values by column, the line it starts on, the structure's notation."""

    line: int
    values: dict[str, str]
    input_type: str | None = None


def file_kind(filename: str) -> str | None:
    """`csv` or `sdf` from a file name's suffix, else None."""
    suffix = PurePath(filename).suffix.lower()
    return {".csv": "csv", ".sdf": "sdf", ".sd": "sdf"}.get(suffix)


def read_rows(data: bytes, filename: str) -> tuple[list[RawRow], list[Problem]]:
    """Split a CSV or SDF file into rows; problems of the file itself come back too."""
    kind = file_kind(filename)
    if kind is None:
        return [], [Problem(0, "file", f"{PurePath(filename).name!r}: use a .csv or .sdf file")]
    if len(data) > MAX_BYTES:
        return [], [Problem(0, "file", f"file is {len(data)} bytes; the limit is {MAX_BYTES}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(0, "file", f"not UTF-8 ({exc.reason} at byte {exc.start})")]
    if "\x00" in text:
        return [], [Problem(0, "file", "file contains a NUL character")]
    rows, problems = _csv(text) if kind == "csv" else _sdf(text)
    if not rows and not problems:
        problems.append(Problem(0, "file", "no records"))
    if len(rows) > MAX_ROWS:
        problems.append(Problem(0, "file", f"{len(rows)} records; the limit is {MAX_ROWS}"))
    return rows, problems


def _csv(text: str) -> tuple[list[RawRow], list[Problem]]:
    problems: list[Problem] = []
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    allowed = COLUMNS["required"] + COLUMNS["optional"]
    for c in COLUMNS["required"]:
        if c not in header:
            problems.append(Problem(1, c, "required column is missing"))
    if "structure" not in header and "name" not in header:
        problems.append(Problem(1, "structure", "give a structure or a name column"))
    for c in header:
        if c not in allowed:
            problems.append(Problem(1, c or "(empty)", "unknown column"))
    if problems:
        return [], problems
    rows: list[RawRow] = []
    try:
        for row in reader:
            if None in row:
                problems.append(Problem(reader.line_num, "-", "more cells than header columns"))
                continue
            values = {k: (v or "").strip() for k, v in row.items() if k}
            if any(values.values()):
                rows.append(RawRow(reader.line_num, values))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, "-", f"CSV syntax: {exc}"))
    return rows, problems


def _sdf(text: str) -> tuple[list[RawRow], list[Problem]]:
    rows: list[RawRow] = []
    problems: list[Problem] = []
    for start, record in sdf.records(text.splitlines()):
        row = _sdf_record(record, start)
        if row is None:
            problems.append(Problem(start, "molfile", "no `M  END` line: not a molfile record"))
        else:
            rows.append(row)
        if len(rows) > MAX_ROWS:
            break
    return rows, problems


def _sdf_record(record: list[str], first_line: int) -> RawRow | None:
    end = sdf.end_of_molfile(record)
    if end is None:
        return None
    values: dict[str, str] = {"structure": "\n".join(record[: end + 1]) + "\n"}
    title = record[0].strip()
    if title:
        values["name"] = title
    k = end + 1
    while k < len(record):
        head = record[k]
        if head.startswith(">") and "<" in head and ">" in head[head.index("<") :]:
            field = head[head.index("<") + 1 : head.index(">", head.index("<"))].strip().lower()
            k += 1
            data: list[str] = []
            while k < len(record) and record[k].strip():
                data.append(record[k].rstrip())
                k += 1
            if field in COLUMNS["required"] + COLUMNS["optional"] and field != "structure":
                values[field] = "\n".join(data).strip()
        k += 1
    return RawRow(first_line, values, "molfile")
