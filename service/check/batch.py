"""Batch checks: read .smi/.csv/.sdf files, and check many structures on every core."""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from service.check import service
from service.check.index import WatchIndex
from service.check.verdict import CheckResult
from service.chem import sdf
from service.chem.errors import StructureError


@dataclass(frozen=True, slots=True)
class Item:
    """One input record: an identifier (may be None), the structure text and its notation."""

    id: str | None
    structure: str
    input_type: str | None = None
    error: str | None = None


def read_items(path: Path) -> Iterator[Item]:
    """Stream records from a .smi, .csv or .sdf file; an unreadable record becomes an error item."""
    suffix = path.suffix.lower()
    if suffix in (".smi", ".smiles", ".txt"):
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.strip().split(None, 1)
                if not parts or parts[0].startswith("#"):
                    continue
                yield Item(parts[1].strip() if len(parts) > 1 else None, parts[0], "smiles")
    elif suffix == ".csv":
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            reader = csv.DictReader(f)
            cols = {c.lower(): c for c in reader.fieldnames or []}
            struct = next((cols[c] for c in ("smiles", "structure", "inchi") if c in cols), None)
            ident = next((cols[c] for c in ("id", "name", "identifier") if c in cols), None)
            if struct is None:
                raise StructureError(f"{path.name}: no smiles, structure or inchi column")
            for row in reader:
                yield Item(row.get(ident) if ident else None, row.get(struct) or "")
    elif suffix in (".sdf", ".sd"):
        with path.open(encoding="utf-8", errors="replace") as f:
            for _, record in sdf.records(f):
                yield _sdf_item(record)
    else:
        raise StructureError(f"{path.name}: unknown file type {suffix!r} (use .smi, .csv or .sdf)")


def _sdf_item(record: list[str]) -> Item:
    name = record[0].strip() if record else None
    block = sdf.molblock(record) or "\n".join(record) + "\n"
    return Item(name or None, block, "molfile")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item checked: its result, or why it could not be checked."""

    id: str | None
    result: CheckResult | None = None
    error: str | None = None
    query: str | None = None  # the input echoed beside an error, when it was read

    def as_json(self) -> dict[str, Any]:
        """The JSON line: `id` and the check, or `id`, `query` (when read) and `error`."""
        if self.result is not None:
            return {"id": self.id, **self.result.model_dump(mode="json")}
        line: dict[str, Any] = {"id": self.id}
        if self.query is not None:
            line["query"] = self.query
        line["error"] = self.error
        return line


def check_item(index: WatchIndex, item: Item, options: service.CheckOptions) -> Outcome:
    """Check one item; an unreadable one gets its error."""
    if item.error:
        return Outcome(item.id, error=item.error)
    try:
        return Outcome(
            item.id, result=service.check(index, item.structure, options, item.input_type)
        )
    except StructureError as exc:
        return Outcome(item.id, error=str(exc), query=item.structure[:200])


# --- every core: fork workers that inherit the index (built once, never pickled) ------

_worker_state: tuple[WatchIndex, service.CheckOptions, bool] | None = None


def _line(outcome: Outcome) -> str:
    """The outcome's JSON line: `id`, then the result as pydantic-core writes it in one pass
    (no intermediate dict), or the error's fields."""
    if outcome.result is not None:
        body = outcome.result.model_dump_json()
        return f'{{"id":{orjson.dumps(outcome.id).decode()},{body[1:]}'
    return orjson.dumps(outcome.as_json(), default=str).decode()


def _work(chunk: list[Item]) -> list[Any]:
    assert _worker_state is not None
    index, options, as_json = _worker_state
    results = [check_item(index, it, options) for it in chunk]
    # a JSON line is far cheaper to send back to the parent than a nested dict
    return [_line(r) for r in results] if as_json else results


def check_many(
    index: WatchIndex,
    items: Iterable[Item],
    options: service.CheckOptions,
    *,
    processes: int | None = None,
    chunk_size: int = 256,
    as_json: bool = False,
) -> Iterator[Any]:
    """Check items in input order on `processes` cores (default: all), streaming the results
    as dicts, or as JSON lines (without newline) when `as_json`."""
    global _worker_state
    n = processes or os.cpu_count() or 1
    if n <= 1:
        for it in items:
            r = check_item(index, it, options)
            yield _line(r) if as_json else r
        return
    _worker_state = (index, options, as_json)
    ctx = mp.get_context("fork")
    with ctx.Pool(n) as pool:
        for results in pool.imap(_work, _chunks(items, chunk_size)):
            yield from results
    _worker_state = None


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for it in items:
        chunk.append(it)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
