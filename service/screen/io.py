"""Screening input and output: stream records from .smi/.csv/.sdf/.parquet, shape result rows.

Input is read lazily, one record at a time (Parquet in record batches), so memory stays
bounded by the chunks in flight, never by the library's size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from service.check.batch import Item, Outcome, read_items
from service.chem.errors import StructureError

SUFFIXES = (".smi", ".smiles", ".txt", ".csv", ".sdf", ".sd", ".parquet")
MAX_INPUT_CHARS = 200  # the `input` column keeps the start of each record, for reading back

_STRUCTURE_COLUMNS = {
    "smiles": "smiles",
    "structure": None,
    "inchi": "inchi",
    "molblock": "molfile",
}
_ID_COLUMNS = ("id", "name", "identifier")


def iter_records(path: Path, *, batch_size: int = 10_000) -> Iterator[Item]:
    """Stream a library's records in file order; unknown suffixes raise StructureError."""
    suffix = path.suffix.lower()
    if suffix != ".parquet":
        if suffix not in SUFFIXES:
            raise StructureError(
                f"{path.name}: unknown file type {suffix!r} (use .smi, .csv, .sdf or .parquet)"
            )
        yield from read_items(path)
        return
    pf = pq.ParquetFile(path)
    cols = {name.lower(): name for name in pf.schema_arrow.names}
    found = next((c for c in _STRUCTURE_COLUMNS if c in cols), None)
    if found is None:
        raise StructureError(f"{path.name}: no smiles, structure, inchi or molblock column")
    struct, kind = cols[found], _STRUCTURE_COLUMNS[found]
    ident = next((cols[c] for c in _ID_COLUMNS if c in cols), None)
    columns = [struct] + ([ident] if ident else [])
    for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
        structures = batch.column(struct).to_pylist()
        ids = batch.column(ident).to_pylist() if ident else [None] * len(structures)
        for sid, text in zip(ids, structures, strict=True):
            yield Item(None if sid is None else str(sid), text or "", kind)


def count_records(path: Path) -> int | None:
    """Records in a library, cheaply (no parsing); None when it cannot be told."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    n = 0
    with path.open("rb") as f:
        if suffix in (".smi", ".smiles", ".txt"):
            for line in f:
                s = line.strip()
                n += bool(s) and not s.startswith(b"#")
        elif suffix == ".csv":
            n = max(sum(1 for _ in f) - 1, 0)  # approximate when fields hold newlines
        elif suffix in (".sdf", ".sd"):
            n = sum(1 for line in f if line.strip() == b"$$$$")
        else:
            return None
    return n


def schema(codes: tuple[str, ...]) -> pa.Schema:
    """The output schema: identity columns, six columns per jurisdiction, then one caveats
    column per jurisdiction and one exclusions column per jurisdiction (each added later, so
    last: the earlier columns keep their places)."""
    fields = [
        pa.field("row", pa.int64(), nullable=False),
        pa.field("id", pa.string()),
        pa.field("input", pa.string()),
        pa.field("smiles", pa.string()),
        pa.field("inchikey", pa.string()),
        pa.field("error", pa.string()),
    ]
    for code in codes:
        fields += [
            pa.field(f"{code}_status", pa.string()),
            pa.field(f"{code}_match", pa.string()),
            pa.field(f"{code}_citation", pa.string()),
            pa.field(f"{code}_reasons", pa.string()),
            pa.field(f"{code}_nearest", pa.string()),
            pa.field(f"{code}_similarity", pa.float64()),
        ]
    # keys of the unencoded generic laws whose core the record has, where its status there is
    # neither controlled nor controlled_by_class (the check's `caveats`), joined by commas
    fields += [pa.field(f"{code}_caveats", pa.string()) for code in codes]
    # citations of the legal texts that name the record (this stereoisomer) as excluded from a
    # schedule there, where it is not controlled (the check's `exclusions`), joined by " ; "
    fields += [pa.field(f"{code}_excluded_by", pa.string()) for code in codes]
    return pa.schema(fields)


def table(
    first: int, items: Sequence[Item], outcomes: Sequence[Outcome], codes: tuple[str, ...]
) -> pa.Table:
    """A chunk's output rows (the first numbered `first`) as an Arrow table, column by column.

    Each record gives one row: its check result flattened (nearest neighbour, the match's
    name or class key with its clauses, reasons and caveats joined by commas), or its error.
    """
    out = schema(codes)
    n = len(items)
    data: dict[str, list[Any]] = {name: [None] * n for name in out.names}
    data["row"] = list(range(first, first + n))
    per_code = [
        (
            code,
            data[f"{code}_status"],
            data[f"{code}_match"],
            data[f"{code}_citation"],
            data[f"{code}_reasons"],
            data[f"{code}_nearest"],
            data[f"{code}_similarity"],
            data[f"{code}_caveats"],
            data[f"{code}_excluded_by"],
        )
        for code in codes
    ]
    ids, inputs, smiles, keys, errors = (
        data["id"],
        data["input"],
        data["smiles"],
        data["inchikey"],
        data["error"],
    )
    for i, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        ids[i] = item.id
        if item.input_type != "molfile":
            inputs[i] = item.structure[:MAX_INPUT_CHARS]
        errors[i] = outcome.error
        result = outcome.result
        if result is None:
            continue
        smiles[i], keys[i] = result.smiles, result.inchikey
        verdicts = {v.jurisdiction: v for v in result.verdicts}
        for (
            code,
            status,
            match,
            citation,
            reasons,
            nearest,
            similarity,
            caveats,
            excluded,
        ) in per_code:
            v = verdicts.get(code)
            if v is None:
                continue
            status[i] = v.status.value
            if v.substance:
                match[i], citation[i] = v.substance.name, v.substance.citation
            elif v.class_match:
                cm = v.class_match
                clauses = ",".join(c.key for c in cm.clauses)
                match[i], citation[i] = f"{cm.key} clauses {clauses}", cm.citation
            reasons[i] = ",".join(v.reasons) or None
            caveats[i] = ",".join(c.key for c in v.caveats) or None
            excluded[i] = " ; ".join(x.citation for x in v.exclusions) or None
            if v.neighbors:
                nearest[i] = v.neighbors[0].name
                similarity[i] = float(v.neighbors[0].similarity)
    # typed arrays straight into the table: no dictionary per row
    return pa.Table.from_arrays([pa.array(data[f.name], f.type) for f in out], schema=out)
