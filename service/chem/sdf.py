"""SD files: the one splitter of records that the batch check and the appearance import share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

DELIMITER = "$$$$"
END = "M  END"


def records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records of an SD file (their lines, without line ends and without the
    `$$$$` delimiter), each with the 1-based number of its first line."""
    block: list[str] = []
    start = 1
    for number, line in enumerate(lines, 1):
        if line.strip() == DELIMITER:
            if any(b.strip() for b in block):
                yield start, block
            block, start = [], number + 1
        else:
            block.append(line.rstrip("\r\n"))
    if any(b.strip() for b in block):
        yield start, block


def end_of_molfile(record: list[str]) -> int | None:
    """Index of the record's `M  END` line, or None when the record holds no molfile."""
    return next((k for k, line in enumerate(record) if line.startswith(END)), None)


def molblock(record: list[str]) -> str | None:
    """The molfile of a record (through its `M  END` line), or None when there is none."""
    end = end_of_molfile(record)
    return None if end is None else "\n".join(record[: end + 1]) + "\n"
